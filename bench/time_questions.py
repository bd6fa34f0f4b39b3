"""Time-sensitive questions: the share answered from the right article, with and without taking the
time a question names ("năm 2022", "tháng 11/2019", "mới nhất", "năm ngoái") as a preference.

    python bench/time_questions.py [--json]

Corpus: the five seeds plus tests/data/time_news (short articles written for this, the same kinds
of event in several years). Questions: tests/data/time_questions.jsonl, each with the date it is
asked on (QA_TODAY). Nothing here was fitted on these questions: the preference's two constants
(hybrid.PREFERENCE_BONUS, RELEVANT) were set by reasoning, not tuned.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.ingest.articles import load_folder  # noqa: E402
from qa.ingest.language import detect  # noqa: E402
from qa.ingest.text import has_diacritics  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.service import Service  # noqa: E402

QUESTIONS = ROOT / "tests" / "data" / "time_questions.jsonl"
CORPORA = [ROOT / "seeds", ROOT / "tests" / "data" / "time_news"]


def kind(question: str) -> str:
    """English, Vietnamese with diacritics, or Vietnamese typed without them."""
    if detect(question) != "vi":
        return "en"
    return "vi" if has_diacritics(question) else "vi-nodiac"


def answered_from(result: dict) -> str | None:
    """The article the answer cites first, or None when there is no answer."""
    return result["answer"]["citations"][0]["article_id"] if result["found"] else None


def main() -> int:
    """Build the corpus's index, ask every question both ways, print the shares."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "index" / "eval" / "time_news")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    config = Config.from_env(index_dir=args.index)
    articles = [a for folder in CORPORA for a in load_folder(folder)[0]]
    embedder = Embedder.from_config(config)
    versions.build(config, articles, embedder, progress=False)
    service = Service(config, embedder)
    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    right, top, total = Counter(), Counter(), Counter()
    for q in questions:
        service.config = replace(config, today=q["today"])
        group = kind(q["question"])
        for use in (True, False):
            result = service.ask(q["question"], 5, question_time=use)
            key = (use, group)
            total[key] += 1
            right[key] += answered_from(result) == q["article_id"]
            top[key] += bool(result["passages"]) and result["passages"][0]["article_id"] == q["article_id"]
    rows = []
    for use in (True, False):
        for group in ("vi", "vi-nodiac", "en", "all"):
            keys = [(use, g) for g in ("vi", "vi-nodiac", "en")] if group == "all" else [(use, group)]
            n = sum(total[k] for k in keys)
            rows.append({"question_time": use, "questions": group, "n": n,
                         "answered_from_right_article": round(sum(right[k] for k in keys) / n, 3),
                         "top_passage_right_article": round(sum(top[k] for k in keys) / n, 3)})
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'question time':<14} {'questions':<10} {'n':>3} {'answer from right article':>26} {'top passage':>12}")
    for r in rows:
        print(f"{'used' if r['question_time'] else 'ignored':<14} {r['questions']:<10} {r['n']:>3} "
              f"{r['answered_from_right_article']:>26.3f} {r['top_passage_right_article']:>12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
