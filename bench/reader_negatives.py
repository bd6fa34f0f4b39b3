"""Would a reader fine-tuned with passages that do not answer rerank retrieval's top passages? (issues 14, 15)

The shipped reader (bench/train_reader.py) learned only from passages that hold the answer, so it marks a span
in any passage with about the same score. Here one fold reader is fine-tuned again, on the same questions,
each also paired with a hard negative: the best-ranked of its top 5 retrieved passages that is from another
paragraph and holds none of its gold answers, whose target is the [CLS] token (no answer, as in SQuAD 2.0).
Its evidence that a passage answers is the best span's score minus the [CLS] score.

Held out by article: the reader of fold k (bench/train_reader.py's folds) is fine-tuned without fold k's
articles, and scores fold k's questions only. Prints, beside the fold reader without negatives (same fold):
EM and F1 given the gold passage, and paragraph R@1 when the top 2, 3 or 5 fused candidates are reordered by
the fused score plus w × that evidence, for several w (the choice of w is not held out: read the whole row).
Run: python bench/reader_negatives.py [--fold 0] [--epochs 2]  (about 25 min on two cores)
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import rerank_probe  # noqa: E402
import train_reader  # noqa: E402
from train_spans import fold_of  # noqa: E402

from qa.config import Config  # noqa: E402
from qa.model import reader  # noqa: E402
from qa.model.embedder import Embedder, _tokenizer, bundled_model_dir  # noqa: E402

OUT = ROOT / "bench" / "data" / "reader_negatives"
TOP = (2, 3, 5)
WEIGHTS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1)


def retrieved(name: str, embedder: Embedder) -> list[dict]:
    """Each question of a benchmark with its 5 best fused passages, as the service ranks them."""
    out = []
    for q, title, index, _, _, hits in rerank_probe.ranked(name, embedder, max(TOP)):
        passages = index.store.passages([h.row for h in hits])
        out.append({"set": name, "group": title, "question": q.text, "answers": q.answers,
                    "fused": [h.score for h in hits], "texts": [p["text"] for p in passages],
                    "own": [p["article_id"] == q.paragraph_id for p in passages]})
    return out


def negative(question: dict) -> dict | None:
    """The question's best-ranked passage from another paragraph holding none of its answers, as a record whose
    target is [CLS]; None when its top passages have none."""
    text = next((t for t, own in zip(question["texts"], question["own"])
                 if not own and not any(a in t for a in question["answers"])), None)
    return None if text is None else {**{k: question[k] for k in ("set", "group", "question", "answers")},
                                      "text": text, "start": -1, "end": -1}


def evidence(read: reader.Reader, question: str, text: str) -> float:
    """The best span's score minus the [CLS] score: how much more the passage answers than not."""
    start, end, offsets, sequences = read.logits(question, text)
    allowed = np.array([s == 1 and b > a for s, (a, b) in zip(sequences, offsets)])
    return reader.best_span(start, end, allowed)[2] - float(start[0] + end[0])


def reranked(questions: list[dict], scores: list[list[float]], top: int, weight: float) -> float:
    """Paragraph R@1 when the top candidates are ordered by the fused score plus weight × the reader's evidence."""
    best = [int(np.argmax(np.array(q["fused"][:top]) + weight * np.array(s[:top]))) for q, s in zip(questions, scores)]
    return float(np.mean([q["own"][b] for q, b in zip(questions, best)]))


def main() -> int:
    """Fine-tune one fold reader with negatives; print its figures beside the fold reader without them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fold", type=int, default=0, choices=range(train_reader.FOLDS))
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    config = Config.from_env()
    base = bundled_model_dir(config.model_cache)
    embedder = Embedder.from_config(config)
    asked = [q for name in train_reader.TRAIN for q in retrieved(name, embedder)]
    inside = lambda q: fold_of(q["group"], train_reader.FOLDS) == args.fold
    positives = [r for name in train_reader.TRAIN for r in train_reader.examples(name, config) if not inside(r)]
    negatives = [n for n in map(negative, (q for q in asked if not inside(q))) if n is not None]
    print(f"fold {args.fold}: {len(positives)} answering and {len(negatives)} non-answering passages", flush=True)
    train_reader.EPOCHS = args.epochs
    path = OUT / f"fold{args.fold}.safetensors"
    train_reader.save(train_reader.fine_tune(positives + negatives, base, _tokenizer(base), log_every=100), base, path)
    readers = {"without negatives (4 epochs)": train_reader.FOLD_DIR / f"fold{args.fold}.safetensors",
               f"with negatives ({args.epochs} epochs)": path}
    for label, weights in readers.items():
        read = train_reader.runtime(weights, config)
        for name in train_reader.TRAIN:
            gold = [r for r in train_reader.examples(name, config) if inside(r)]
            questions = [q for q in asked if q["set"] == name and inside(q)]
            scores = [[evidence(read, q["question"], t) for t in q["texts"]] for q in questions]
            print(f"{label}, {name}: given the gold passage "
                  f"{train_reader.figures(train_reader.answers(read, gold), gold)}", flush=True)
            for top in TOP:
                print(f"  top {top}, R@1 at w = " + "  ".join(f"{w}: {reranked(questions, scores, top, w):.3f}"
                                                           for w in WEIGHTS), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
