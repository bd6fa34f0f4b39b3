"""Shared fixtures: the real model and a seed index, each built once per test session."""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.config import Config  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def base_config(tmp_path_factory) -> Config:
    """Default settings with a private index folder; the model cache is the user's (converted once)."""
    return Config.from_env(index_dir=tmp_path_factory.mktemp("index"), seeds_dir=SEEDS)


@pytest.fixture(scope="session")
def embedder(base_config):
    """The real default model, loaded once."""
    from qa.embedder import Embedder

    return Embedder(base_config.model, base_config.model_cache)


@pytest.fixture(scope="session")
def seed_config(base_config, embedder) -> Config:
    """A configuration whose index holds the five seed articles."""
    from qa.cli import build_from_folder

    build_from_folder(base_config, embedder, progress=False)
    return base_config


@pytest.fixture(scope="session")
def service(seed_config, embedder):
    """The question-answering service over the seed index."""
    from qa.service import Service

    return Service(seed_config, embedder)


@pytest.fixture
def fresh_config(tmp_path, base_config) -> Config:
    """An empty index folder for tests that build or break indexes."""
    return replace(base_config, index_dir=tmp_path / "index")


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the seed folder."""
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS, target)
    return target
