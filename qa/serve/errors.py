"""Every error leaves the service as JSON `{"error": {"code", "message"}}`, never as an HTML page."""
from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from qa.index.versions import IndexProblem

log = logging.getLogger(__name__)

_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type",
          429: "too_many_requests", 503: "unavailable"}


class ApiError(Exception):
    """A client mistake with its HTTP status, a stable code and a message for a person."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str):
    """The one JSON shape of every error."""
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def register(app: Flask) -> None:
    """Route HTTP exceptions, our own errors and crashes through the JSON shape."""

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = error_response(exc.code, _CODES.get(exc.code, "http_error"), exc.description or exc.name)
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(IndexProblem)
    def index_unavailable(exc: IndexProblem):
        """The index cannot answer right now (a sharded set with every shard lost): say so, not a crash."""
        log.error("index unavailable: %s", exc)
        return error_response(503, "index_unavailable", f"the index cannot answer right now: {exc}")

    @app.errorhandler(Exception)
    def crash(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal_error", "the service failed on this request; it has been logged")
