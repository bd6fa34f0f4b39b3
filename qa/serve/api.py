"""JSON API: ask, search, articles, health and the OpenAPI document."""
from __future__ import annotations

import json

from flask import Blueprint, current_app, jsonify, request, url_for

from qa.retrieve import filters as filters_mod
from qa.retrieve.filters import Filters
from qa.serve.errors import ApiError
from qa.serve.limits import MAX_BODY_BYTES, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, MAX_TOP_K, MAX_TURN_CHARS, ROLES
from qa.serve.openapi import document as openapi_document
from qa.service import Service

bp = Blueprint("api", __name__, url_prefix="/api")



def _service() -> Service:
    """The service the factory loaded for this app."""
    return current_app.extensions["qa"]


def _body() -> dict:
    """The request's JSON object, or a 400/415 saying what is wrong with it."""
    if request.mimetype != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as JSON with Content-Type: application/json")
    request.max_content_length = MAX_BODY_BYTES
    try:
        body = json.loads(request.get_data(cache=False).decode("utf-8"))
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "the body is not UTF-8") from None
    except ValueError as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body must be a JSON object such as {\"question\": \"...\"}")
    return body


def _question(value) -> str:
    """A non-empty question within the documented length."""
    if not isinstance(value, str) or not value.strip():
        raise ApiError(400, "invalid_question", "\"question\" must be a non-empty string")
    if len(value) > MAX_QUESTION_CHARS:
        raise ApiError(400, "question_too_long", f"\"question\" is longer than {MAX_QUESTION_CHARS} characters")
    return value.strip()


def _top_k(value, name: str = "top_k") -> int:
    """An integer between 1 and MAX_TOP_K; as in JSON Schema 7.0 is an integer, 7.5, true and "7" are not."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOP_K:
        raise ApiError(400, f"invalid_{name}", f"\"{name}\" must be an integer from 1 to {MAX_TOP_K}")
    return value


def _history(value) -> list[dict]:
    """Earlier turns of the conversation, each {role: user|assistant, content: str}."""
    if not isinstance(value, list) or len(value) > MAX_HISTORY_TURNS:
        raise ApiError(400, "invalid_history", f"\"history\" must be a list of at most {MAX_HISTORY_TURNS} turns")
    for i, turn in enumerate(value):
        if (not isinstance(turn, dict) or turn.get("role") not in ROLES or not isinstance(turn.get("content"), str)
                or len(turn["content"]) > MAX_TURN_CHARS):
            raise ApiError(400, "invalid_history", f"history[{i}] must be {{\"role\": \"user\"|\"assistant\", "
                                                   f"\"content\": string of at most {MAX_TURN_CHARS} characters}}")
    return [{"role": t["role"], "content": t["content"]} for t in value]


def _filters(raw) -> Filters:
    """Checked filters, or a 400 naming the offending field."""
    try:
        return filters_mod.parse(raw)
    except filters_mod.FilterError as exc:
        raise ApiError(400, "invalid_filters", f"filters.{exc.field}: {exc}") from None


def _query_filters() -> Filters:
    """Filters given as query parameters (`sources` and `articles` may repeat)."""
    args = request.args
    return _filters({k: v for k, v in {"date_from": args.get("date_from"), "date_to": args.get("date_to"),
                                       "sources": args.getlist("sources") or None,
                                       "articles": args.getlist("articles") or None,
                                       "language": args.get("language")}.items() if v is not None})


def _question_time(value, name: str = "question_time") -> bool:
    """Whether to take a time the question names as a preference (default yes)."""
    if isinstance(value, str):
        value = {"1": True, "true": True, "0": False, "false": False}.get(value.lower(), value)
    if not isinstance(value, bool):
        raise ApiError(400, f"invalid_{name}", f"\"{name}\" must be true or false")
    return value


def _with_links(passages: list[dict]) -> list[dict]:
    """Give each passage the address of its article page, scrolled to it."""
    for p in passages:
        p["url"] = url_for("web.article", article_id=p["article_id"], _anchor=f"p{p['index']}")
    return passages


def _link_short(result: dict) -> None:
    """The passage holding the short answer links to its article with the sentence and the answer marked."""
    source = result["answer"] and result["answer"]["short_source"]
    if not source or source.get("passage_id") is None:
        return
    p = next(p for p in result["passages"] if p["id"] == source["passage_id"])
    sentence = source["sentence"]
    p["url"] = url_for("web.article", article_id=p["article_id"], _anchor=f"p{p['index']}",
                       sentence=f"{p['start'] + sentence['start']}-{p['start'] + sentence['end']}",
                       answer=f"{p['start'] + source['start']}-{p['start'] + source['end']}")


@bp.post("/ask")
def ask():
    """Answer a question with cited passages."""
    body = _body()
    question = _question(body.get("question"))
    top_k = _top_k(body.get("top_k", 5))
    history = _history(body.get("history", []))
    result = _service().ask(question, top_k, history, _filters(body.get("filters")),
                            _question_time(body.get("question_time", True)))
    _with_links(result["passages"])
    _link_short(result)
    if result["answer"]:
        urls = {p["id"]: p["url"] for p in result["passages"]}
        for citation in result["answer"]["citations"]:
            citation["url"] = urls[citation["passage_id"]]
    return jsonify(result)


@bp.get("/search")
def search():
    """Passages only, for clients that build their own answer."""
    question = _question(request.args.get("q"))
    raw_k = request.args.get("k", "5")
    k = _top_k(int(raw_k) if raw_k.isascii() and raw_k.isdigit() else raw_k, "k")
    found, took = _service().timed_search(question, k, filters=_query_filters(),
                                          question_time=_question_time(request.args.get("question_time", True)))
    _with_links(found["passages"])
    return jsonify({"question": question, **found, "took_ms": round(took, 2)})


@bp.get("/articles")
def articles():
    """Articles (id, title, date, author, passage count) passing the filters, with `q` in the title, sorted."""
    sort = request.args.get("sort", "id")
    if sort not in filters_mod.SORTS:
        raise ApiError(400, "invalid_sort", f"\"sort\" must be one of {', '.join(filters_mod.SORTS)}")
    q = request.args.get("q", "")
    if len(q) > MAX_QUESTION_CHARS:
        raise ApiError(400, "invalid_q", f"\"q\" is longer than {MAX_QUESTION_CHARS} characters")
    return jsonify(_service().articles(_query_filters(), q, sort))


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    """One whole article with its passages and their offsets."""
    found = _service().article(article_id)
    if found is None:
        raise ApiError(404, "article_not_found", f"no article with id {article_id!r}")
    _with_links(found["passages"])
    return jsonify(found)


@bp.get("/examples")
def examples():
    """A few questions about the loaded corpus, for an empty chat."""
    return jsonify(_service().examples())


@bp.get("/health")
def health():
    """Liveness plus what is loaded: model, index version and counts."""
    return jsonify(_service().health())


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
