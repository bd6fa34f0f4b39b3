"""Would a learned reranker over the signals retrieval already has beat today's fused ranking? (issue 15)

For every benchmark question, the fused top M candidates of the real retrieval (`hybrid.candidates` and
`hybrid.rank` over the benchmark's own index, as `python -m qa eval` builds it) are described by the
signals the issue lists: fused score and its gap to the best, cosine and BM25 (raw, gap to the best, BM25
against the question's coverage), each method's rank, the best late-chunked sentence cosine inside the
passage (and its gap), the article's other candidates (count, share of the fused score), whether the passage
leads its article, and its length. A candidate is positive when it is from the question's article.

Held out as the answer scorers are (bench/train_spans.py's folds): XQuAD (Vietnamese and English questions)
5-fold by article, MLQA never seen (fitted on all of XQuAD). Prints article-level R@1 of the fused ranking
and of each reranker. Nothing is shipped: run python bench/rerank_probe.py [--top 20]
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

from train_spans import BENCHMARKS, FOLDS, HELD_OUT, TRAIN, fold_of  # noqa: E402

from qa import eval as eval_mod  # noqa: E402
from qa.config import Config  # noqa: E402
from qa.index import versions  # noqa: E402
from qa.ingest import language  # noqa: E402
from qa.model.embedder import Embedder  # noqa: E402
from qa.retrieve import hybrid  # noqa: E402
from qa.service import Service  # noqa: E402

ABSENT = 200  # the rank given to a candidate one method did not return


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


def examples(name: str, embedder: Embedder, top: int) -> list[dict]:
    """Each question's candidates: signals, whether each is from its article, and its fold."""
    articles, questions = eval_mod.load_benchmark(BENCHMARKS / name)
    titles = {a.id: a.title for a in articles}
    config = Config.from_env(index_dir=Path(Config.from_env().index_dir) / "eval" / name)
    versions.build(config, articles, embedder, progress=False)
    service = Service(config, embedder)
    index, out = service.index, []
    for q in questions:
        vector = service.query(index, q.text, language.detect(q.text))
        found = hybrid.candidates(index, hybrid.request(vector, q.text, "hybrid", config.candidates))
        hits = hybrid.rank(found, q.text, top, "hybrid")
        if not hits:
            continue
        passages = index.store.passages([h.row for h in hits])
        best = [float(index.dense.sentence_scores(vector, np.array(p["sentences"], dtype=np.int64)).max())
                for p in passages]
        cover = found.words.coverage(hybrid.coverage_words(q.text))
        out.append({"set": name, "fold": fold_of(titles[q.paragraph_id]), "x": describe(hits, passages, best, cover),
                    "y": np.array([p["article_id"] == q.paragraph_id for p in passages], dtype=float)})
    index.close()
    return out


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
    args = parser.parse_args()
    embedder = Embedder.from_config(Config.from_env())
    records = [r for name in (*TRAIN, HELD_OUT) for r in examples(name, embedder, args.top)]
    sets = (*TRAIN, HELD_OUT)
    line = lambda label, figures: print(f"{label:<36}" + "  ".join(f"{s} {figures[s]:.3f}" for s in sets), flush=True)
    line("fused ranking (today)", {s: r_at_1([r for r in records if r["set"] == s], lambda r: -np.arange(len(r["y"])))
                                   for s in sets})
    for hard in (5, args.top):
        for c in (0.01, 1.0):
            line(f"pairwise logistic, {hard} hard, C {c}", held_out(records, pairwise(c, hard)))
    line("gradient-boosted trees", held_out(records, boosted))
    return 0


if __name__ == "__main__":
    sys.exit(main())
