"""Would a learned reranker over the signals retrieval already has beat today's fused ranking? (issue 15)

For every benchmark question, the fused top M candidates of the real retrieval (`hybrid.candidates` and
`hybrid.rank` over the benchmark's own index, as `python -m qa eval` builds it) are described by the
signals the issue lists: fused score and its gap to the best, cosine and BM25 (raw, gap to the best, BM25
against the question's coverage), each method's rank, the best late-chunked sentence cosine inside the
passage (and its gap), the article's other candidates (count, share of the fused score), whether the passage
leads its article, and its length. A candidate is positive when it is from the question's article.
With --reader, also the score of the extractive reader's best span in each candidate (the fold reader of
bench/train_reader.py fine-tuned without the question's article), alone (fused + w × reader, w chosen on
XQuAD's other folds) and as one more signal of the rerankers.

Held out as the answer scorers are (bench/train_spans.py's folds): XQuAD (Vietnamese and English questions)
5-fold by article, MLQA never seen (fitted on all of XQuAD). Prints article-level R@1 of the fused ranking
and of each reranker. Nothing is shipped: run python bench/rerank_probe.py [--top 20] [--reader]
"""
from __future__ import annotations

import argparse
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import train_reader  # noqa: E402
from train_spans import BENCHMARKS, FOLDS, HELD_OUT, TRAIN, fold_of  # noqa: E402

from qa import eval as eval_mod  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.ingest import language  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.retrieve import hybrid  # noqa: E402
from qa.service import Service  # noqa: E402

ABSENT = 200  # the rank given to a candidate one method did not return
UNREAD = -5.0  # the reader's score of a passage in which it marks nothing (its marks score about 3 to 10)
WEIGHTS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)  # reader weights tried when added to the fused score


def describe(hits: list[hybrid.Hit], passages: list[dict], best_sentence: list[float], cover: float) -> np.ndarray:
    """One row of signals per candidate, relative to the question's best where scores are not comparable."""
    top_fused, top_dense = hits[0].score, max(h.dense_score for h in hits)
    top_lexical = max(max(h.lexical_score for h in hits), 1e-9)
    top_sentence = max(best_sentence)
    count = Counter(p["article_id"] for p in passages)
    total = defaultdict(float)
    for h, p in zip(hits, passages):
        total[p["article_id"]] += h.score
    rows = []
    for i, (h, p, s) in enumerate(zip(hits, passages, best_sentence)):
        lexical = h.lexical_score / top_lexical
        rows.append([h.score, h.score - top_fused, h.dense_score, h.dense_score - top_dense, lexical,
                     lexical * cover, cover, np.log1p(i), np.log1p(h.dense_rank or ABSENT),
                     np.log1p(h.lexical_rank or ABSENT), s, s - top_sentence, s - h.dense_score,
                     count[p["article_id"]] - 1, (total[p["article_id"]] - h.score) / max(top_fused, 1e-9),
                     float(p["index"] == 0), np.log1p(len(p["text"]))])
    return np.array(rows)


def ranked(name: str, embedder: Embedder, top: int):
    """Each question of a benchmark over the benchmark's own index (built as `python -m qa eval` builds it): the
    question, its article's title, the index, the question's vector, candidates and `top` best fused hits."""
    articles, questions = eval_mod.load_benchmark(BENCHMARKS / name)
    titles = {a.id: a.title for a in articles}
    config = Config.from_env(index_dir=Path(Config.from_env().index_dir) / "eval" / name)
    versions.build(config, articles, embedder, progress=False)
    service = Service(config, embedder)
    index = service.index
    try:
        for q in questions:
            asked = language.detect(q.text)
            vector = service.query(index, q.text, asked)
            found = hybrid.candidates(index, hybrid.request(vector, q.text, "hybrid", config.candidates,
                                                            language=asked))
            yield q, titles[q.paragraph_id], index, vector, found, hybrid.rank(found, q.text, top, "hybrid",
                                                                              language=asked)
    finally:
        index.close()


def examples(name: str, embedder: Embedder, top: int, readers: list | None) -> list[dict]:
    """Each question's candidates: signals (the fold reader's score last, when `readers`), whether each is from
    its article, and its fold."""
    out = []
    for q, title, index, vector, found, hits in ranked(name, embedder, top):
        if not hits:
            continue
        passages = index.store.passages([h.row for h in hits])
        best = [float(index.dense.sentence_scores(vector, np.array(p["sentences"], dtype=np.int64)).max())
                for p in passages]
        cover = found.words.coverage(hybrid.coverage_words(q.text))
        x = describe(hits, passages, best, cover)
        if readers:
            x = np.column_stack([x, read(readers[fold_of(title, train_reader.FOLDS)], q.text, passages)])
        out.append({"set": name, "fold": fold_of(title), "x": x,
                    "y": np.array([p["article_id"] == q.paragraph_id for p in passages], dtype=float)})
    return out


def read(reader, question: str, passages: list[dict]) -> list[float]:
    """The reader's best-span score in each passage (UNREAD where it marks nothing)."""
    found = [reader.read(question, p["text"]) for p in passages]
    return [UNREAD if f is None else f.score for f in found]


def added(records: list[dict]):
    """The fused score plus the reader's, at the weight that ranks these questions best."""
    score = lambda w: lambda r: r["x"][:, 0] + w * r["x"][:, -1]
    return score(max(WEIGHTS, key=lambda w: r_at_1(records, score(w))))


def pairwise(c: float, hard: int = 5):
    """Pairwise logistic regression: the best fused candidate of the question's article (the one article-level
    R@1 counts) against each of the `hard` best fused candidates that are not (the ones it must pass)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def fit(records: list[dict]):
        diffs = [d for r in records if r["y"].any() for g in r["x"][[int(np.argmax(r["y"]))]]
                 for b in r["x"][:hard][r["y"][:hard] == 0] for d in (g - b, b - g)]
        x = np.array(diffs)
        scale = StandardScaler(with_mean=False).fit(x)
        model = LogisticRegression(C=c, max_iter=3000, fit_intercept=False).fit(scale.transform(x),
                                                                             np.tile([1, 0], len(x) // 2))
        return lambda r: scale.transform(r["x"]) @ model.coef_[0]
    return fit


def boosted(records: list[dict]):
    """Gradient-boosted trees on each candidate alone."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15, random_state=0)
    model.fit(np.vstack([r["x"] for r in records]), np.concatenate([r["y"] for r in records]))
    return lambda r: model.predict_proba(r["x"])[:, 1]


def r_at_1(records: list[dict], score) -> float:
    """Share of questions whose best-scored candidate is from their article."""
    return float(np.mean([r["y"][int(np.argmax(score(r)))] for r in records]))


def held_out(records: list[dict], fit) -> dict[str, float]:
    """R@1 per set: XQuAD by a model fitted without the question's fold of articles, MLQA by one fitted on XQuAD."""
    train = [r for r in records if r["set"] in TRAIN]
    picked = defaultdict(list)
    for k in range(FOLDS):
        score = fit([r for r in train if r["fold"] != k])
        for r in train:
            if r["fold"] == k:
                picked[r["set"]].append(r["y"][int(np.argmax(score(r)))])
    out = {name: float(np.mean(v)) for name, v in picked.items()}
    out[HELD_OUT] = r_at_1([r for r in records if r["set"] == HELD_OUT], fit(train))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=20, help="fused candidates reranked per question")
    parser.add_argument("--reader", action="store_true", help="add the fold reader's score (a model run per candidate)")
    args = parser.parse_args()
    config = Config.from_env()
    embedder = Embedder.from_config(config)
    readers = [train_reader.runtime(train_reader.FOLD_DIR / f"fold{k}.safetensors", config)
               for k in range(train_reader.FOLDS)] if args.reader else None
    records = [r for name in (*TRAIN, HELD_OUT) for r in examples(name, embedder, args.top, readers)]
    sets = (*TRAIN, HELD_OUT)
    line = lambda label, figures: print(f"{label:<36}" + "  ".join(f"{s} {figures[s]:.3f}" for s in sets), flush=True)
    line("fused ranking (today)", {s: r_at_1([r for r in records if r["set"] == s], lambda r: -np.arange(len(r["y"])))
                                   for s in sets})
    for hard in dict.fromkeys((5, args.top)):
        for c in (0.01, 1.0):
            line(f"pairwise logistic, {hard} hard, C {c}", held_out(records, pairwise(c, hard)))
    line("gradient-boosted trees", held_out(records, boosted))
    if args.reader:
        line("fused + w × reader", held_out(records, added))
    return 0


if __name__ == "__main__":
    sys.exit(main())
