"""Short answers on the seed articles: EM and token F1 of `answer.short` for tests/data/seed_questions.jsonl
(their `answers` are the expected short answers, word for word as the articles have them), and exact
match on tests/data/metadata_questions.jsonl (author, date, source, title; null where the article does
not say, which counts as right when no answer is given).

Run: python bench/seed_answers.py   (builds a private index of seeds/ first)
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.cli import build_from_folder  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.eval import exact_match, token_f1  # noqa: E402
from qa.service import Service  # noqa: E402

DATA = ROOT / "tests" / "data"


def records(name: str) -> list[dict]:
    """The lines of a tests/data file."""
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def short(result: dict) -> str | None:
    """The short answer of an API result, if any."""
    return result["answer"]["short"] if result["answer"] else None


def main() -> int:
    """Print the figures, one group per line, by language and diacritics too."""
    with tempfile.TemporaryDirectory() as folder:
        config = Config.from_env(index_dir=Path(folder), seeds_dir=ROOT / "seeds")
        build_from_folder(config, progress=False)
        service = Service(config)
        seeds = records("seed_questions.jsonl")
        answers = [short(service.ask(r["question"])) for r in seeds]
        groups = {"all": list(range(len(seeds)))}
        for i, r in enumerate(seeds):
            groups.setdefault(f"{r['lang']}{'' if r['diacritics'] else '-nodiacritics'}", []).append(i)
        for name, rows in groups.items():
            em = sum(exact_match(answers[i], seeds[i]["answers"]) for i in rows) / len(rows)
            f1 = sum(token_f1(answers[i], seeds[i]["answers"]) for i in rows) / len(rows)
            print(f"seed questions {name}: n={len(rows)} short_EM={em:.3f} short_F1={f1:.3f}")
        meta = records("metadata_questions.jsonl")
        right = 0
        for r in meta:
            got = short(service.ask(r["question"]))
            ok = got is None if r["short"] is None else exact_match(got, [r["short"]])
            right += ok
            if not ok:
                print(f"  metadata miss {r['id']}: {r['question']} -> {got!r} (expected {r['short']!r})")
        print(f"metadata questions: n={len(meta)} EM={right / len(meta):.3f}")
        service.index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
