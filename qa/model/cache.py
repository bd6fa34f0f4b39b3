"""Files made once into the model cache (ONNX exports): atomic, and checked against the digest kept beside them."""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from . import announced


def digest(path: Path) -> str:
    """SHA-256 of a file, read in blocks (hashlib releases the GIL)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _sidecar(target: Path) -> Path:
    """Where a cached file's digest is kept."""
    return target.with_name(target.name + ".sha256")


def intact(target: Path) -> bool:
    """Whether the cached file exists and matches the digest written when it was made."""
    sidecar = _sidecar(target)
    return target.exists() and sidecar.exists() and sidecar.read_text().strip() == digest(target)


def cached(target: Path, make: Callable[[Path], None], what: str) -> Path:
    """`target` made once by `make(path)`, atomically, with its SHA-256 beside it; made again when it no
    longer matches (a damaged or half-copied cache would otherwise fail at the first question)."""
    sidecar = _sidecar(target)
    if intact(target):
        return target
    if target.exists():
        what += f" (the cached {target.name} is damaged or has no checksum)"
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        with announced(what):
            make(work / target.name)
            (work / sidecar.name).write_text(digest(work / target.name) + "\n")
            os.replace(work / sidecar.name, sidecar)
            os.replace(work / target.name, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target
