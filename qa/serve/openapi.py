"""OpenAPI 3.1 description of the JSON API; tests validate it and check live responses against it."""
from __future__ import annotations

from qa import __version__
from qa.retrieve.filters import MAX_LIST, SORTS
from qa.serve import limits


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    """Error responses, all in the one JSON error shape."""
    text = {400: "invalid input", 401: "missing or wrong operator token", 403: "changes are turned off",
            404: "not found", 405: "method not allowed", 409: "the id exists and replace=false",
            413: "body too large", 415: "unsupported body or file type", 422: "the upload holds no usable article",
            429: "too many requests", 507: "the new index version could not be written; the old one is served"}
    return {str(s): _json(_ref("Error"), text[s]) for s in statuses}


_SPAN = {"type": "object", "required": ["start", "end"],
         "properties": {"start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0}}}

_PASSAGE = {
    "type": "object",
    "required": ["rank", "id", "article_id", "title", "text", "score", "start", "end", "highlights", "url"],
    "properties": {
        "rank": {"type": "integer", "minimum": 1},
        "id": {"type": "string", "description": "ARTICLE_ID:INDEX"},
        "article_id": {"type": "string"},
        "index": {"type": "integer", "minimum": 0, "description": "position of the passage in its article"},
        "title": {"type": "string"},
        "date": {"type": ["string", "null"]},
        "site": {"type": ["string", "null"], "description": "host of the article's original address"},
        "original_url": {"type": ["string", "null"], "description": "the article's original address"},
        "text": {"type": "string", "description": "exactly article.text[start:end]"},
        "score": {"type": "number"},
        "dense_score": {"type": "number"},
        "lexical_score": {"type": "number"},
        "dense_rank": {"type": ["integer", "null"]},
        "lexical_rank": {"type": ["integer", "null"]},
        "start": {"type": "integer", "minimum": 0},
        "end": {"type": "integer", "minimum": 0},
        "highlights": {"type": "array", "items": _SPAN, "description": "answer sentences, offsets inside text"},
        "url": {"type": "string", "description": "the article page, scrolled to this passage"},
        "source": {"type": "string", "description": "the site name of a web article (or the file it came from)"},
    },
}

_CITATION = {"type": "object", "required": ["n", "passage_id", "article_id", "title"],
             "properties": {"n": {"type": "integer", "minimum": 1}, "passage_id": {"type": "string"},
                            "article_id": {"type": "string"}, "title": {"type": "string"},
                            "url": {"type": "string"}}}

_SHORT_SOURCE = {
    "type": ["object", "null"], "required": ["passage_id", "article_id"],
    "description": "where `short` stands: offsets inside the passage's text (and its sentence's), or, for an answer "
                   "from the article's metadata, the field (passage_id null)",
    "properties": {"passage_id": {"type": ["string", "null"]}, "article_id": {"type": "string"},
                   "start": {"type": "integer", "minimum": 0}, "end": {"type": "integer", "minimum": 0},
                   "sentence": _SPAN, "field": {"enum": ["author", "date", "source", "title"]}}}

_ANSWER = {"type": ["object", "null"], "required": ["text", "citations", "short", "short_source"],
           "properties": {"text": {"type": "string", "description": "the supporting sentence(s), each with [n]"},
                          "citations": {"type": "array", "items": _ref("Citation")},
                          "short": {"type": ["string", "null"], "minLength": 1,
                                    "description": "the exact answer, word for word as the passage or the "
                                                   "metadata has it"},
                          "short_source": _SHORT_SOURCE}}


def _ask_request() -> dict:
    """Request body, with the limits the API enforces."""
    turn = {"type": "object", "required": ["role", "content"],
            "properties": {"role": {"enum": list(limits.ROLES)},
                           "content": {"type": "string", "maxLength": limits.MAX_TURN_CHARS}}}
    return {"type": "object", "required": ["question"], "properties": {
        "question": _question_schema(),
        "top_k": {"type": "integer", "minimum": 1, "maximum": limits.MAX_TOP_K, "default": 5},
        "history": {"type": "array", "maxItems": limits.MAX_HISTORY_TURNS, "items": turn, "default": []},
        "filters": _ref("Filters"),
        "question_time": {"type": "boolean", "default": True,
                          "description": "take a time the question names (\"năm 2023\", \"latest\") as a preference"}}}


_NOT_BLANK = "[^\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
_DATE = {"type": ["string", "null"], "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
         "description": "ISO date, inclusive; date_from must not be after date_to"}
_NAMES = {"type": ["array", "null"], "maxItems": MAX_LIST,
          "items": {"type": "string", "minLength": 1, "pattern": _NOT_BLANK}}
# In a JSON body a single name may stand for a list of one (qa/retrieve/filters.py).
_NAMES_OR_ONE = {**_NAMES, "type": ["array", "string", "null"], "minLength": 1, "pattern": _NOT_BLANK}
_LANGUAGE = {"type": ["string", "null"], "pattern": "^[A-Za-z]{1,8}$"}
_FILTERS = {"type": ["object", "null"], "additionalProperties": False, "description": "what the answer may come from",
            "properties": {"date_from": _DATE, "date_to": _DATE, "language": _LANGUAGE,
                           "sources": {**_NAMES_OR_ONE, "description": "site names or hosts (one may be a string)"},
                           "articles": {**_NAMES_OR_ONE, "description": "article ids (one may be a string)"}}}
_TIME = {"type": ["object", "null"], "description": "the time the question was taken to name",
         "required": ["from", "to", "recency", "from_question"],
         "properties": {"from": {"type": ["string", "null"]}, "to": {"type": ["string", "null"]},
                        "recency": {"type": "boolean"}, "text": {"type": "string"},
                        "from_question": {"const": True}}}
_SCOPED = {"filters": {"type": "object"}, "time": _TIME,
           "excluded_undated": {"type": "integer", "minimum": 0,
                                "description": "articles without a date that a date filter left out"}}


def _query_filters() -> list[dict]:
    """The filters as query parameters (lists repeat the parameter)."""
    scalar = [("date_from", _DATE), ("date_to", _DATE), ("language", _LANGUAGE)]
    listed = [("sources", _NAMES), ("articles", _NAMES)]
    return ([{"name": n, "in": "query", "required": False, "schema": schema} for n, schema in scalar]
            + [{"name": n, "in": "query", "required": False, "schema": schema, "style": "form", "explode": True}
               for n, schema in listed])


def _question_schema() -> dict:
    """Non-blank: holds a character that is not whitespace in Python's sense (str.strip), spelled out."""
    return {"type": "string", "minLength": 1, "maxLength": limits.MAX_QUESTION_CHARS, "pattern": _NOT_BLANK}



_ASK_RESPONSE = {
    "type": "object", "required": ["question", "language", "found", "answer", "passages", "took_ms"],
    "properties": {
        "question": {"type": "string"},
        "resolved_question": {"type": "string", "description": "the text searched with: the question, plus the "
                              "conversation's topic words when it is a follow-up (not meant for display)"},
        "language": {"type": "string"},
        "found": {"type": "boolean"},
        "answer": _ref("Answer"),
        "passages": {"type": "array", "items": _ref("Passage")},
        "index_version": {"type": "string"},
        "cached": {"type": "boolean", "description": "answered from the cache of this index version"},
        "took_ms": {"type": "number"},
        **_SCOPED,
    },
}

_SUMMARY = {"type": "object", "required": ["id", "title", "date", "author", "passages"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                           "language": {"type": ["string", "null"]},
                           "date": {"type": ["string", "null"]}, "author": {"type": ["string", "null"]},
                           "url": {"type": ["string", "null"]}, "source": {"type": ["string", "null"]},
                           "passages": {"type": "integer", "minimum": 0}}}

_ARTICLE_PASSAGE = {"type": "object", "required": ["id", "index", "start", "end", "text", "url"],
                    "properties": {"id": {"type": "string"}, "index": {"type": "integer"},
                                   "start": {"type": "integer"}, "end": {"type": "integer"},
                                   "text": {"type": "string"}, "url": {"type": "string"}}}

_ARTICLE = {"type": "object", "required": ["id", "title", "text", "date", "author", "url", "captions", "passages"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "text": {"type": "string"},
                           "language": {"type": ["string", "null"]}, "source": {"type": "string"},
                           "date": {"type": ["string", "null"]}, "author": {"type": ["string", "null"]},
                           "url": {"type": ["string", "null"], "description": "the article's original address"},
                           "fetched_at": {"type": ["string", "null"], "description": "when it was fetched"},
                           "alternates": {"type": "array", "items": {"type": "string"},
                                          "description": "other addresses of the same story"},
                           "captions": {"type": "array", "items": {"type": "string"}},
                           "passages": {"type": "array", "items": _ARTICLE_PASSAGE}}}

_HEALTH = {"type": "object", "required": ["status", "model", "index", "counts"],
           "properties": {"status": {"const": "ok"}, "model": {"type": "object"},
                          "index": {"type": "object"}, "counts": {"type": "object"}}}

_ARTICLE_ID = {"name": "article_id", "in": "path", "required": True, "schema": {"type": "string"}}

_RECORD = {"type": "object", "required": ["id", "text"],
           "properties": {"id": {"type": ["string", "integer"]}, "title": {"type": "string"},
                          "text": {"type": "string"}, "url": {"type": "string"}, "date": {"type": "string"},
                          "author": {"type": "string"}}}

_CHANGE = {"type": "object", "required": ["version", "counts"],
           "properties": {"added": {"type": "array", "items": {"type": "string"}}, "removed": {"type": "string"},
                          "version": {"type": "string"}, "counts": {"type": "object"}}}

_SOURCE = {"type": "object", "required": ["id", "url", "added_at", "last_run", "last_report"],
           "properties": {"id": {"type": "string"}, "url": {"type": "string"}, "added_at": {"type": "string"},
                          "last_run": {"type": ["string", "null"]},
                          "last_report": {"type": ["object", "null"],
                                          "description": "the last scheduled crawl: version, totals, failures"}}}

_SOURCE_ID = {"name": "source_id", "in": "path", "required": True, "schema": {"type": "string"}}

_ERROR = {"type": "object", "required": ["error"],
          "properties": {"error": {"type": "object", "required": ["code", "message"],
                                   "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}


def document() -> dict:
    """The whole OpenAPI 3.1 document."""
    k_param = {"name": "k", "in": "query", "required": False,
               "schema": {"type": "integer", "minimum": 1, "maximum": limits.MAX_TOP_K, "default": 5}}
    q_param = {"name": "q", "in": "query", "required": True, "schema": _question_schema()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "qa — cited answers from news articles", "version": __version__},
        "paths": {
            "/api/ask": {"post": {
                "summary": "Answer a question with cited passages",
                "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("AskRequest")}}},
                "responses": {"200": _json(_ref("AskResponse"), "the answer, or found=false"),
                              **_errors(400, 405, 413, 415, 429)}}},
            "/api/search": {"get": {
                "summary": "Best passages for a question, without an answer",
                "parameters": [q_param, k_param, *_query_filters(), {
                    "name": "question_time", "in": "query", "required": False,
                    "schema": {"type": "string", "enum": ["true", "false", "1", "0"]}}],
                "responses": {"200": _json({"type": "object", "required": ["question", "passages", "took_ms"],
                                            "properties": {"question": {"type": "string"},
                                                           "passages": {"type": "array", "items": _ref("Passage")},
                                                           "took_ms": {"type": "number"}, **_SCOPED}},
                                           "ranked passages"),
                              **_errors(400, 405, 429)}}},
            "/api/articles": {
                "get": {
                    "summary": "Articles passing the filters, with words of the title, sorted",
                    "parameters": [*_query_filters(),
                                   {"name": "q", "in": "query", "required": False,
                                    "schema": {"type": "string", "maxLength": limits.MAX_QUESTION_CHARS}},
                                   {"name": "sort", "in": "query", "required": False,
                                    "schema": {"enum": list(SORTS), "default": "id"}}],
                    "responses": {"200": _json({"type": "array", "items": _ref("ArticleSummary")}, "articles"),
                                  **_errors(400, 405, 429)}},
                "post": {
                    "summary": "Add or replace articles (operators only)",
                    "security": [{"operator": []}],
                    "parameters": [{"name": "replace", "in": "query", "required": False,
                                    "schema": {"type": "string", "enum": ["true", "false", "1", "0"]}}],
                    "requestBody": {"required": True, "content": {
                        "application/json": {"schema": {"oneOf": [_ref("ArticleRecord"),
                                                                  {"type": "array", "items": _ref("ArticleRecord")}]}},
                        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
                            "file": {"type": "string", "format": "binary",
                                     "description": ".txt, .md, .html, .json or .jsonl"}}}}}},
                    "responses": {"201": _json(_ref("Change"), "published as a new index version"),
                                  **_errors(400, 401, 403, 405, 409, 413, 415, 422, 429, 507)}}},
            "/api/articles/{article_id}": {
                "get": {
                    "summary": "One article with its text and passages",
                    "parameters": [_ARTICLE_ID],
                    "responses": {"200": _json(_ref("Article"), "the article"), **_errors(404, 405, 429)}},
                "delete": {
                    "summary": "Remove an article (operators only)",
                    "security": [{"operator": []}],
                    "parameters": [_ARTICLE_ID],
                    "responses": {"200": _json(_ref("Change"), "published as a new index version"),
                                  **_errors(401, 403, 404, 405, 429, 507)}}},
            "/api/sources": {
                "get": {
                    "summary": "Registered web sources (operators only)",
                    "security": [{"operator": []}],
                    "responses": {"200": _json({"type": "array", "items": _ref("Source")}, "sources"),
                                  **_errors(401, 403, 405, 429)}},
                "post": {
                    "summary": "Register a feed, sitemap or page, refreshed on the schedule (operators only)",
                    "security": [{"operator": []}],
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {
                        "type": "object", "required": ["url"], "properties": {"url": {"type": "string"}}}}}},
                    "responses": {"200": _json(_ref("Source"), "registered already"),
                                  "201": _json(_ref("Source"), "registered"),
                                  **_errors(400, 401, 403, 405, 413, 422, 429)}}},
            "/api/sources/{source_id}": {
                "delete": {
                    "summary": "Stop refreshing a source; its articles stay (operators only)",
                    "security": [{"operator": []}],
                    "parameters": [_SOURCE_ID],
                    "responses": {"200": _json({"type": "object", "required": ["removed"],
                                                "properties": {"removed": {"type": "string"}}}, "removed"),
                                  **_errors(401, 403, 404, 405, 429)}}},
            "/api/examples": {"get": {
                "summary": "A few questions about the loaded corpus",
                "responses": {"200": _json({"type": "array", "items": {
                    "type": "object", "required": ["question", "article_id"],
                    "properties": {"question": {"type": "string"}, "article_id": {"type": "string"}}}},
                    "example questions"), **_errors(405, 429)}}},
            "/api/health": {"get": {
                "summary": "Status, model, index version and counts",
                "responses": {"200": _json(_ref("Health"), "the service is up"), **_errors(405)}}},
            "/api/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1"), **_errors(405)}}},
        },
        "components": {"securitySchemes": {"operator": {"type": "http", "scheme": "bearer",
                                                        "description": "the server's QA_ADMIN_TOKEN"}},
                       "schemas": {
            "AskRequest": _ask_request(), "AskResponse": _ASK_RESPONSE, "Answer": _ANSWER, "Citation": _CITATION,
            "Passage": _PASSAGE, "ArticleSummary": _SUMMARY, "Article": _ARTICLE, "Health": _HEALTH,
            "Error": _ERROR, "ArticleRecord": _RECORD, "Change": _CHANGE, "Filters": _FILTERS,
            "Source": _SOURCE}},
    }
