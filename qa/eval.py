"""Retrieval benchmarks: every paragraph indexed as an article, every question scored by rank."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.ingest.articles import Article
from qa.ingest.text import tidy, words

CUTOFFS = (1, 5, 10)


@dataclass
class Question:
    """A benchmark question and the paragraph (article) that answers it."""

    id: str
    text: str
    paragraph_id: str
    answers: list[str]


def _jsonl(path: Path) -> list[dict]:
    """Records of a JSON-lines file, with a clear error for a missing file."""
    if not path.is_file():
        raise FileNotFoundError(f"benchmark file {path} is missing (expected paragraphs.jsonl and questions.jsonl)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_benchmark(folder: Path) -> tuple[list[Article], list[Question]]:
    """Paragraphs as articles (title without underscores) and the questions about them."""
    folder = Path(folder)
    paragraphs = _jsonl(folder / "paragraphs.jsonl")
    articles = [Article(id=str(p["id"]), title=tidy(p.get("title", "").replace("_", " ")),
                        text=tidy(p["text"]), source=str(folder / "paragraphs.jsonl")) for p in paragraphs]
    questions = [Question(str(q["id"]), q["question"], str(q["paragraph_id"]), list(q.get("answers", [])))
                 for q in _jsonl(folder / "questions.jsonl")]
    return articles, questions


def gold_rank(results: list[dict], question: Question) -> int | None:
    """1-based rank of the first passage from the question's paragraph, None if absent."""
    return next((r["rank"] for r in results if r["article_id"] == question.paragraph_id), None)


def answer_hit(answer: dict | None, question: Question) -> bool:
    """The answer text contains a gold answer, compared word by word in matching form."""
    if not answer:
        return False
    said = f" {' '.join(words(answer['text']))} "
    return any(f" {' '.join(words(gold))} " in said for gold in question.answers if words(gold))


def token_f1(predicted: str | None, gold: list[str]) -> float:
    """Best token F1 against any gold answer, in SQuAD's way adapted to Vietnamese (see `words`: NFC, one
    tone-mark spelling, lower case, punctuation dropped); 0 when nothing was predicted."""
    said = words(predicted or "")
    best = 0.0
    for answer in gold:
        expected = words(answer)
        common = sum((Counter(said) & Counter(expected)).values())
        if common:
            precision, recall = common / len(said), common / len(expected)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def exact_match(predicted: str | None, gold: list[str]) -> bool:
    """The predicted answer equals a gold answer once both are normalised."""
    said = words(predicted or "")
    return bool(said) and any(said == words(answer) for answer in gold)


def sentence_hit(result: dict, question: Question) -> bool:
    """The sentence the short answer was taken from contains a gold answer."""
    source = result["answer"] and result["answer"].get("short_source")
    if not source or source.get("passage_id") is None:
        return False
    text = next(p["text"] for p in result["passages"] if p["id"] == source["passage_id"])
    sentence = source["sentence"]
    return answer_hit({"text": text[sentence["start"]:sentence["end"]]}, question)


def citation_hit(answer: dict | None, question: Question) -> bool:
    """The first citation points at the question's paragraph."""
    return bool(answer and answer["citations"] and answer["citations"][0]["article_id"] == question.paragraph_id)


def answer_metrics(results: list[dict], questions: list[Question]) -> dict:
    """Shares of questions answered, answered with a gold string, and first-cited from the right paragraph."""
    n = len(questions)
    shorts = [r["answer"].get("short") if r["answer"] else None for r in results]
    return {"found": sum(r["found"] for r in results) / n,
            "short_EM": sum(exact_match(s, q.answers) for s, q in zip(shorts, questions)) / n,
            "short_F1": sum(token_f1(s, q.answers) for s, q in zip(shorts, questions)) / n,
            "sentence_hit": sum(sentence_hit(r, q) for r, q in zip(results, questions)) / n,
            "answer_hit": sum(answer_hit(r["answer"], q) for r, q in zip(results, questions)) / n,
            "citation_hit": sum(citation_hit(r["answer"], q) for r, q in zip(results, questions)) / n,
            "answer_chars": float(np.mean([len(r["answer"]["text"]) for r in results if r["answer"]] or [0]))}


def retrieval_metrics(ranks: list[int | None], latencies_ms: list[float]) -> dict:
    """R@1/5/10, MRR@10 and median latency."""
    r = np.array([x if x is not None else 10**9 for x in ranks], dtype=float)
    out = {f"R@{k}": float((r <= k).mean()) for k in CUTOFFS}
    out["MRR@10"] = float(np.where(r <= 10, 1.0 / r, 0.0).mean())
    out["latency_p50_ms"] = float(np.percentile(latencies_ms, 50))
    out["questions"] = len(ranks)
    return out
