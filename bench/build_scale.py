"""Index build at scale: the viwiki corpus (7,878 articles, 66 M characters) or its first N articles.

    python bench/build_scale.py --limit 500            # quick variant
    python bench/build_scale.py                        # all of it
    python bench/build_scale.py --backend torch --index index/viwiki-torch

Writes the articles as JSON lines under bench/data/, runs `python -m qa build` on them in a child
process and prints: articles, passages, sentences, wall time and its stages, passages per second,
peak memory (RSS of the build process) and index size on disk.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpora" / "viwiki_2017" / "documents.jsonl.gz"


def subset(corpus: Path, limit: int | None) -> Path:
    """The first `limit` articles (all if None) as a folder holding one JSON-lines file."""
    folder = ROOT / "bench" / "data" / f"viwiki{limit or ''}"
    target = folder / "documents.jsonl"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with gzip.open(corpus, "rt", encoding="utf-8") as src, open(target, "w", encoding="utf-8") as out:
            for n, line in enumerate(src):
                if limit is not None and n >= limit:
                    break
                out.write(line)
    return folder


def size_mb(folder: Path) -> float:
    """Bytes of every file below a folder, in MB."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, help="only the first N articles")
    parser.add_argument("--backend", default=os.environ.get("QA_BACKEND", "onnx-int8"))
    parser.add_argument("--index", type=Path)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    seeds = subset(args.corpus, args.limit)
    index = args.index or ROOT / "index" / f"viwiki{args.limit or ''}-{args.backend}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "qa", "build", "--seeds", str(seeds), "--index", str(index),
                    "--backend", args.backend], cwd=ROOT, check=True)
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    version = (index / "current").resolve()
    manifest = json.loads((version / "manifest.json").read_text())
    counts = manifest["counts"]
    print(f"{counts['articles']} articles, {counts['passages']} passages, {counts['sentences']} sentences "
          f"({counts['embedded']} embedded) with backend {args.backend}")
    print(f"wall {wall:.0f} s (stages: {manifest['stage_seconds']}), "
          f"{counts['passages'] / wall:.1f} passages/s overall, "
          f"{counts['embedded'] / max(manifest['stage_seconds']['embed'], 1e-9):.1f} passages/s embedding")
    print(f"peak memory {peak:.0f} MB, index {size_mb(version):.0f} MB on disk ({version})")


if __name__ == "__main__":
    main()
