"""Copy benchmarks with the diacritics stripped from the questions (paragraphs unchanged).

    python bench/strip_diacritics.py [--benchmarks ../shared/benchmarks] [--out bench/data]

writes bench/data/xquad_vi_nodiac and bench/data/mlqa_vi_dev_nodiac (with the licence notice),
ready for `python -m qa eval bench/data/xquad_vi_nodiac`.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.ingest.text import fold  # noqa: E402

NAMES = ("xquad_vi", "mlqa_vi_dev")
NOTICE = ("Derived from {name} in ../shared/benchmarks ({source}); questions with diacritics removed by "
          "bench/strip_diacritics.py. Licence: {licence}.\n")
SOURCES = {"xquad_vi": ("XQuAD, google-deepmind/xquad", "CC BY-SA 4.0"),
           "mlqa_vi_dev": ("MLQA v1 dev, Lewis et al. 2020", "CC BY-SA 3.0")}


def strip(source: Path, target: Path) -> int:
    """Write the folded copy; returns the number of questions."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "paragraphs.jsonl", target / "paragraphs.jsonl")
    for licence in source.glob("LICENSE*"):
        shutil.copyfile(licence, target / licence.name)
    lines = []
    for line in (source / "questions.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        record["question"] = fold(record["question"])
        lines.append(json.dumps(record, ensure_ascii=False))
    (target / "questions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    name = source.name
    (target / "NOTICE").write_text(NOTICE.format(name=name, source=SOURCES[name][0], licence=SOURCES[name][1]))
    return len(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--benchmarks", type=Path, default=ROOT.parent / "shared" / "benchmarks")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "data")
    args = parser.parse_args()
    for name in NAMES:
        count = strip(args.benchmarks / name, args.out / f"{name}_nodiac")
        print(f"{args.out / (name + '_nodiac')}: {count} questions")


if __name__ == "__main__":
    main()
