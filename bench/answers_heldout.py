"""Whole answers (sentence and short answer) on the benchmarks, with nothing fitted on the questions reported.

The shipped sentence and span weights (qa/answer/sentence_model.json, span_model.json) were fitted on
XQuAD, so on XQuAD questions (both languages, and their diacritic-free copies) each question is
answered with the fold models of bench/train_sentences.py and bench/train_spans.py that were fitted
without its article; MLQA questions with the shipped ones, which never saw MLQA. The reader
(qa/model/reader.safetensors) was fine-tuned on XQuAD and MLQA, so every question is read by the fold
reader of bench/train_reader.py fine-tuned without its article. QA_READER=false: without the reader.

Run: python bench/train_spans.py; python bench/train_sentences.py; python bench/train_reader.py (they
     write the fold models), then python bench/answers_heldout.py [--bench xquad_vi mlqa_vi_dev …]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from unittest import mock

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import train_reader  # noqa: E402
import train_sentences  # noqa: E402
import train_spans  # noqa: E402

from qa import eval as eval_mod  # noqa: E402
from qa.answer import sentences, spans  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.service import Service  # noqa: E402

SHARED = ROOT.parent / "shared" / "benchmarks"
DERIVED = ROOT / "bench" / "data"


def folder(name: str) -> Path:
    """A shared benchmark, or a derived copy in bench/data (the diacritic-free ones)."""
    return SHARED / name if (SHARED / name).is_dir() else DERIVED / name


def answer_all(service: Service, questions: list, titles: dict[str, str], folds: dict, scorers_seen: bool
               ) -> list[dict]:
    """service.ask for every question, in question order, under its article's fold models: the reader's (3
    folds, every set) and, where the scorers were fitted on the question's set (`scorers_seen`: XQuAD), the
    span and sentence scorers' (5 folds); the shipped scorers otherwise."""
    of = [(train_spans.fold_of(titles[q.paragraph_id]) if scorers_seen else None,
           train_spans.fold_of(titles[q.paragraph_id], train_reader.FOLDS)) for q in questions]
    results: dict[int, dict] = {}
    shipped = service.reader
    for k in dict.fromkeys(of):
        span_w = spans._weights() if k[0] is None else folds["spans"][k[0]]
        sentence_w = sentences._weights() if k[0] is None else folds["sentences"][k[0]]
        service.reader = shipped and folds["readers"][k[1]]
        service._answer.cache_clear()
        with mock.patch.object(spans, "_weights", lambda w=span_w: w), \
                mock.patch.object(sentences, "_weights", lambda w=sentence_w: w):
            results.update({i: service.ask(questions[i].text, 10) for i, f in enumerate(of) if f == k})
    service.reader = shipped
    return [results[i] for i in range(len(questions))]


def main() -> int:
    """Print retrieval R@1 and the answer metrics for each benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", nargs="+", default=["xquad_vi", "mlqa_vi_dev", "xquad_en_vi"])
    parser.add_argument("--second-margin", type=float, nargs="+", default=[sentences.SECOND_MARGIN],
                        help="values of sentences.SECOND_MARGIN to compare (choose on one benchmark only)")
    args = parser.parse_args()
    settings = Config.from_env()
    folds = {"spans": json.loads(train_spans.FOLD_MODELS.read_text(encoding="utf-8")),
             "sentences": json.loads(train_sentences.FOLD_MODELS.read_text(encoding="utf-8")),
             "readers": [train_reader.runtime(train_reader.FOLD_DIR / f"fold{k}.safetensors", settings)
                         for k in range(train_reader.FOLDS)] if settings.reader else None}
    embedder = None
    for name in args.bench:
        articles, questions = eval_mod.load_benchmark(folder(name))
        titles = {a.id: a.title for a in articles}
        config = Config.from_env(index_dir=Path(settings.index_dir) / "eval" / name)
        embedder = embedder or Embedder.from_config(config)
        versions.build(config, articles, embedder, progress=False)
        service = Service(config, embedder)
        for margin in args.second_margin:
            sentences.SECOND_MARGIN = margin
            results = answer_all(service, questions, titles, folds, name.startswith("xquad"))
            ranks = [eval_mod.gold_rank(r["passages"], q) for r, q in zip(results, questions)]
            m = {**eval_mod.retrieval_metrics(ranks, [r["took_ms"] for r in results]),
                 **eval_mod.answer_metrics(results, questions)}
            print(f"{name} SECOND_MARGIN={margin}: R@1={m['R@1']:.3f} found={m['found']:.3f} "
                  f"sentence_hit={m['sentence_hit']:.3f} short_EM={m['short_EM']:.3f} short_F1={m['short_F1']:.3f} "
                  f"answer_hit={m['answer_hit']:.3f} answer_chars={m['answer_chars']:.0f} "
                  f"(reader: {'fold models' if service.reader else 'off'}; span and sentence scorers: "
                  f"{'fold models' if name.startswith('xquad') else 'shipped, never saw it'})",
                  flush=True)
        service.index.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
