"""One configuration object drives build, ask, eval and serve; every field has a QA_* variable."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path

from qa.model.embedder import BUNDLED, default_cache_dir

INDEX_SETTINGS = ("target_chars", "max_chars", "bigrams", "dense_index")
MAY_BE_EMPTY = ("rate_limit", "admin_token")


@dataclass(frozen=True)
class Config:
    """Settings with their defaults; `QA_<NAME>` in the environment overrides each one."""

    index_dir: Path = Path("index")
    seeds_dir: Path = Path("seeds")
    model: str = BUNDLED
    model_cache: Path = field(default_factory=default_cache_dir)
    backend: str = "onnx"
    query_backend: str = ""
    threads: int = 0
    target_chars: int = 500
    max_chars: int = 1500
    bigrams: bool = True
    dense_index: str = "auto"
    nprobe: int = 0
    ef_search: int = 0
    delta_from: int = 20_000
    mode: str = "hybrid"
    reader: bool = True
    reader_precision: str = "int8"
    candidates: int = 100
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    admin_token: str = ""
    max_upload_bytes: int = 8 * 1024 * 1024
    rate_limit: str = "600 per minute"
    today: str = ""
    allow_private_urls: bool = False
    crawl_every: int = 3600
    crawl_delay_ms: int = 1000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides) -> Config:
        """Defaults, then QA_* variables, then explicit overrides (command-line options).

        An empty variable means the default, except where empty means off (`QA_RATE_LIMIT=`).
        """
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            raw = env.get(f"QA_{f.name.upper()}")
            if raw is not None and (raw != "" or f.name in MAY_BE_EMPTY):
                values[f.name] = _parse(f.name, raw, f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)

    def index_settings(self) -> dict:
        """The settings an index is built with; loading with others would give wrong results."""
        return {name: getattr(self, name) for name in INDEX_SETTINGS}


def _parse(name: str, raw: str, kind: str):
    """Turn a QA_* string into the field's type, with a message naming the variable."""
    try:
        if kind == "bool":
            if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return raw.lower() in {"1", "true", "yes", "on"}
        if kind == "int":
            if int(raw) < 0:
                raise ValueError(raw)
            return int(raw)
        if kind == "Path":
            return Path(raw).expanduser()
        if name == "today" and raw:
            date.fromisoformat(raw)
        return raw
    except ValueError:
        expected = {"int": "whole number ≥ 0", "str": "ISO date such as 2026-12-02"}.get(kind, kind)
        raise ValueError(f"QA_{name.upper()}={raw!r} is not a valid {expected}") from None
