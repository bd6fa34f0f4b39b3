"""Fit the short-answer span scorer (qa/answer/spans.py) and report it on questions it was not fitted on.

Training data: XQuAD (Vietnamese and English questions over the same Vietnamese paragraphs, CC BY-SA
4.0), given the sentence that holds the gold answer. Every candidate span of that sentence is an
example; the candidates with the best token F1 against the gold answers are the positives.

Held out, two ways:
- XQuAD, 5-fold cross-validation grouped by article (title): an article's questions, in either
  language, are scored by a model fitted without that article. The regularisation C is chosen here,
  and the fold models are written to bench/data/ for bench/answers_heldout.py (whole answers on XQuAD).
- MLQA (mlqa_vi_dev), never seen in fitting or in choosing C.

The shipped weights are then fitted on all of XQuAD. Run: python bench/train_spans.py
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.answer import spans  # noqa: E402
from qa.eval import exact_match, load_benchmark, token_f1  # noqa: E402
from qa.ingest.passages import sentence_spans  # noqa: E402

BENCHMARKS = ROOT.parent / "shared" / "benchmarks"
TRAIN = ("xquad_vi", "xquad_en_vi")
HELD_OUT = "mlqa_vi_dev"
GRID = (0.03, 0.1, 0.3)
FOLDS = 5
FOLD_MODELS = ROOT / "bench" / "data" / "span_folds.json"  # model k was fitted without the articles of fold k


def _gold_sentence(text: str, answers: list[str]) -> str | None:
    """The sentence of the paragraph that contains the first gold answer found in it."""
    for answer in answers:
        at = text.find(answer)
        if at >= 0:
            return next((text[a:b] for a, b in sentence_spans(text) if a <= at < b), None)
    return None


def examples(name: str) -> list[dict]:
    """One record per question whose gold answer is found in a sentence: its candidates' features and F1."""
    articles, qs = load_benchmark(BENCHMARKS / name)
    by_id = {a.id: a for a in articles}
    out = []
    for q in qs:
        article = by_id[q.paragraph_id]
        sentence = _gold_sentence(article.text, q.answers)
        if sentence is None:
            continue
        toks = spans.tokens(sentence)
        asked = spans.Asked.of(q.text)
        found = spans.matches(toks, asked)
        cands = spans.candidates(toks, asked.kind, asked.heads)
        texts = [sentence[toks[i].start:toks[j - 1].end] for i, j in cands]
        out.append({"group": article.title, "question": q.text, "kind": asked.kind, "answers": q.answers,
                    "sentence": sentence, "texts": texts,
                    "features": [spans.features(toks, i, j, asked, found) for i, j in cands],
                    "f1": np.array([token_f1(t, q.answers) for t in texts])})
    return out


def fit(records: list[dict], c: float) -> dict[str, float]:
    """Logistic regression over every candidate; the best-F1 candidates of each question are positive."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, labels = [], []
    for r in records:
        top = r["f1"].max()
        rows += r["features"]
        labels += list((r["f1"] >= top) & (top > 0))
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=3000, fit_intercept=False).fit(x, labels)
    return {name: float(w) for name, w in zip(vectorizer.get_feature_names_out(), model.coef_[0]) if abs(w) > 1e-4}


def score(pairs: list[tuple[dict, dict[str, float]]]) -> dict:
    """EM and F1 of the best-scoring candidate of each record under its weights, and the oracle F1."""
    em, f1 = [], []
    for r, weights in pairs:
        scores = [sum(weights.get(n, 0.0) * v for n, v in f.items()) for f in r["features"]]
        best = int(np.argmax(scores))
        em.append(exact_match(r["texts"][best], r["answers"]))
        f1.append(r["f1"][best])
    return {"questions": len(pairs), "EM": round(float(np.mean(em)), 3), "F1": round(float(np.mean(f1)), 3),
            "oracle_F1": round(float(np.mean([r["f1"].max() for r, _ in pairs])), 3)}


def fold_of(title: str, folds: int = FOLDS) -> int:
    """The cross-validation fold of an article (by its title: both XQuAD sets share their articles)."""
    return int(hashlib.sha256(title.encode("utf-8")).hexdigest(), 16) % folds


def cross_validate(records: list[dict], c: float) -> tuple[dict, list[dict[str, float]]]:
    """Each article's questions scored by a model fitted on the other folds' articles; the fold models."""
    models = [fit([r for r in records if fold_of(r["group"]) != k], c) for k in range(FOLDS)]
    by_set: dict[str, list] = {}
    for r in records:
        by_set.setdefault(r["set"], []).append((r, models[fold_of(r["group"])]))
    return {name: score(pairs) for name, pairs in by_set.items()}, models


def main() -> int:
    """Choose C by cross-validation on XQuAD, report held-out figures, write the shipped weights."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=spans.MODEL)
    args = parser.parse_args()
    started = time.time()
    train = []
    for name in TRAIN:
        for r in examples(name):
            train.append({**r, "set": name})
    held_out = examples(HELD_OUT)
    print(f"examples: {len(train)} XQuAD questions, {len(held_out)} MLQA questions ({time.time() - started:.0f} s)")
    results, models = {}, {}
    for c in GRID:
        results[c], models[c] = cross_validate(train, c)
        print(f"C={c}: XQuAD 5-fold by article: {results[c]}", flush=True)
    best_c = max(GRID, key=lambda c: sum(v["F1"] for v in results[c].values()))
    FOLD_MODELS.parent.mkdir(parents=True, exist_ok=True)
    FOLD_MODELS.write_text(json.dumps(models[best_c]), encoding="utf-8")
    print(f"wrote the {FOLDS} fold models (C={best_c}) to {FOLD_MODELS}, for held-out answers on XQuAD")
    weights = fit(train, best_c)
    mlqa = score([(r, weights) for r in held_out])
    print(f"chosen C={best_c}; fitted on all of XQuAD; MLQA (never seen): {mlqa}")
    report = {"trained_on": list(TRAIN), "C": best_c, "cross_validated": results[best_c], "mlqa_vi_dev": mlqa,
              "given": "the sentence holding the gold answer", "command": "python bench/train_spans.py"}
    args.out.write_text(json.dumps({"report": report, "weights": dict(sorted(weights.items()))}, ensure_ascii=False,
                                   indent=0) + "\n", encoding="utf-8")
    print(f"wrote {len(weights)} weights to {args.out} in {time.time() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
