"""Fit the answer-sentence scorer (qa/answer/sentences.py) and report it on questions it was not fitted on.

For every benchmark question the real retrieval runs over the benchmark's own index (as `python -m qa
eval` builds it), and each sentence of the top passages is an example: positive when it contains a
gold answer. Features are those of `sentences.describe`; the fit is pairwise (a sentence with the
answer against one without, of the same question), since scores only rank one question's sentences.

Held out, as for the span scorer (bench/train_spans.py, whose folds are reused):
- XQuAD (Vietnamese and English questions), 5-fold cross-validation grouped by article;
- MLQA (mlqa_vi_dev), never seen.
Each line also gives the hand-set weights the scorer replaced, in the same run. The shipped weights are
fitted on all of XQuAD. Run: python bench/train_sentences.py
"""
from __future__ import annotations

import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from train_spans import BENCHMARKS, FOLDS, HELD_OUT, TRAIN, fold_of  # noqa: E402

from qa import eval as eval_mod  # noqa: E402
from qa.answer import reading, sentences  # noqa: E402
from qa.answer.questions import content_words  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.ingest import language  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.service import Service  # noqa: E402

FOLD_MODELS = ROOT / "bench" / "data" / "sentence_folds.json"
C = 1.0
# The hand-set scorer this one replaced: 1.0 dense + 0.15 lexical + 0.05 kind − 0.03 per passage rank.
HAND = {"dense": 1.0, "lexical": 0.15, **{f"{k}|kind": 0.05 for k in ("number", "time", "person", "place")},
        "rank1": -0.03, "rank2": -0.06}


def examples(name: str, embedder: Embedder) -> list[dict]:
    """One record per question: its candidate sentences' features and whether each holds a gold answer."""
    articles, questions = eval_mod.load_benchmark(BENCHMARKS / name)
    titles = {a.id: a.title for a in articles}
    config = Config.from_env(index_dir=Path(Config.from_env().index_dir) / "eval" / name)
    versions.build(config, articles, embedder, progress=False)
    service = Service(config, embedder)
    index = service.index
    out = []
    for q in questions:
        asked = language.detect(q.text)
        vector = service.query(index, q.text, asked)
        passages = service.search(q.text, 10, vector=vector, index=index)
        read = reading.of(index, [p["row"] for p in passages], sentences.PASSAGES_SEARCHED, vector, [])
        found = sentences.candidates(passages, read)
        if not found:
            continue
        sentences.describe(q.text, found, passages, passages[0]["language"] != asked,
                           index.lexical.words(content_words(q.text)), read)
        out.append({"set": name, "group": titles[q.paragraph_id], "features": [c.features for c in found],
                    "labels": [eval_mod.answer_hit({"text": c.text}, q) for c in found]})
    index.close()
    return out


def fit(records: list[dict]) -> dict[str, float]:
    """Pairwise logistic regression: within each question, a sentence holding the answer against one that
    does not (the scores only ever rank one question's sentences)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = DictVectorizer().fit([f for r in records for f in r["features"]])
    rows, labels = [], []
    for r in records:
        x = vectorizer.transform(r["features"]).toarray()
        good = [i for i, label in enumerate(r["labels"]) if label]
        bad = [i for i, label in enumerate(r["labels"]) if not label]
        for g, b in itertools.product(good, bad):
            rows += [x[g] - x[b], x[b] - x[g]]
            labels += [1, 0]
    model = LogisticRegression(C=C, max_iter=3000, fit_intercept=False).fit(np.array(rows), labels)
    return {name: round(float(w), 6) for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0])}


def hit_rate(pairs: list[tuple[dict, dict[str, float]]]) -> float:
    """Share of questions whose best-scored sentence holds a gold answer (all questions, none skipped)."""
    hits = 0
    for r, weights in pairs:
        scores = [sum(weights.get(k, 0.0) * v for k, v in f.items()) for f in r["features"]]
        hits += r["labels"][int(np.argmax(scores))]
    return round(hits / len(pairs), 3)


def main() -> int:
    """Cross-validate on XQuAD, score MLQA, write the shipped and the fold weights."""
    started = time.time()
    embedder = Embedder.from_config(Config.from_env())
    train = [r for name in TRAIN for r in examples(name, embedder)]
    held_out = examples(HELD_OUT, embedder)
    print(f"examples: {len(train)} XQuAD and {len(held_out)} MLQA questions with candidates "
          f"({time.time() - started:.0f} s)")
    models = [fit([r for r in train if fold_of(r["group"]) != k]) for k in range(FOLDS)]
    for name in TRAIN:
        rows = [r for r in train if r["set"] == name]
        fitted = hit_rate([(r, models[fold_of(r["group"])]) for r in rows])
        print(f"{name}: best sentence holds a gold answer: fitted (5-fold by article) {fitted}, "
              f"hand-set {hit_rate([(r, HAND) for r in rows])}")
    weights = fit(train)
    print(f"{HELD_OUT} (never seen): fitted {hit_rate([(r, weights) for r in held_out])}, "
          f"hand-set {hit_rate([(r, HAND) for r in held_out])}")
    FOLD_MODELS.parent.mkdir(parents=True, exist_ok=True)
    FOLD_MODELS.write_text(json.dumps(models), encoding="utf-8")
    shipped = {"trained_on": list(TRAIN), "C": C, "command": "python bench/train_sentences.py", "weights": weights}
    sentences.MODEL.write_text(json.dumps(shipped, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {sentences.MODEL} and {FOLD_MODELS} in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
