"""Token F1 and answer-hit of `answer.text` (the whole cited answer) for whatever `qa` is first on sys.path.

Compares this code with an older checkout in one run, over the indexes `python -m qa eval` builds:
    PYTHONPATH=/path/to/old/checkout python bench/answer_text_f1.py xquad_vi mlqa_vi_dev xquad_en_vi
    python bench/answer_text_f1.py xquad_vi mlqa_vi_dev xquad_en_vi
(run from the repository; an old checkout lays its modules out in qa/ alone, this one by stage).
"""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "benchmarks"

import qa.eval as eval_mod  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.service import Service  # noqa: E402

try:
    from qa.ingest.text import words
except ImportError:  # the layout before qa/ was grouped by stage
    from qa.text import words


def f1(predicted: str | None, gold: list[str]) -> float:
    """Best token F1 against any gold answer (the same normalisation as qa.eval.token_f1)."""
    said, best = words(predicted or ""), 0.0
    for answer in gold:
        expected = words(answer)
        common = sum((Counter(said) & Counter(expected)).values())
        if common:
            precision, recall = common / len(said), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def main() -> int:
    """One line per benchmark."""
    for name in sys.argv[1:]:
        folder = SHARED / name if (SHARED / name).is_dir() else ROOT / "bench" / "data" / name
        _, questions = eval_mod.load_benchmark(folder)
        service = Service(Config.from_env(index_dir=ROOT / "index" / "eval" / name))
        results = [service.ask(q.text, 10) for q in questions]
        n = len(questions)
        text_f1 = sum(f1(r["answer"]["text"] if r["answer"] else None, q.answers) for r, q in zip(results, questions))
        hits = sum(eval_mod.answer_hit(r["answer"], q) for r, q in zip(results, questions))
        print(f"{name}: {n} questions; answer.text F1={text_f1 / n:.3f} answer_hit={hits / n:.3f} "
              f"found={sum(r['found'] for r in results) / n:.3f} ({Path(eval_mod.__file__).parent.parent})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
