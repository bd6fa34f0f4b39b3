"""Changing the corpus while serving: articles and the web sources refreshed on a schedule, for operators only.

Off unless QA_ADMIN_TOKEN is set (403); a missing or wrong `Authorization: Bearer …` gets 401; the
token is compared in constant time. Every change publishes a new index version atomically (see
qa/index/versions.py); this worker switches at once and the others within half a second (Service.watch).
"""
from __future__ import annotations

import hmac
import json
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from flask import Blueprint, current_app, jsonify, request

from qa.index import versions as index_mod
from qa.ingest import articles as articles_mod
from qa.ingest.fetch import FetchError, check_address
from qa.ingest.state import State, source_id as _source_id
from qa.serve.errors import ApiError

bp = Blueprint("admin", __name__, url_prefix="/api")

UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl")


def _authorise() -> None:
    """Only the operator may change what the service knows."""
    token = current_app.extensions["qa"].config.admin_token
    if not token:
        raise ApiError(403, "changes_disabled", "changing articles is turned off on this server; "
                                                "start it with QA_ADMIN_TOKEN set to enable it")
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(value.strip().encode(), token.encode()):
        raise ApiError(401, "unauthorized", "send the operator token as 'Authorization: Bearer <token>'")


def _replace_flag() -> bool:
    """`replace` (query string or form field): true unless said otherwise."""
    raw = request.args.get("replace", request.form.get("replace", "true")).lower()
    if raw not in ("true", "false", "1", "0"):
        raise ApiError(400, "invalid_replace", "replace must be true or false")
    return raw in ("true", "1")


def _articles_from_upload() -> list[articles_mod.Article]:
    """Articles of an uploaded file, read from a private temporary folder (the name keeps only its last part)."""
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise ApiError(400, "missing_file", "send the article as JSON, or as a multipart upload in the field 'file'")
    name = Path(upload.filename.replace("\\", "/")).name
    if not name or name.startswith(".") or Path(name).suffix.lower() not in UPLOAD_SUFFIXES:
        raise ApiError(415, "unsupported_format",
                       f"file {upload.filename!r} is not one of {', '.join(UPLOAD_SUFFIXES)}")
    folder = Path(tempfile.mkdtemp(prefix="qa-upload-"))
    try:
        path = folder / name
        upload.save(path)
        found, problems = articles_mod.load_file(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _usable(found, [p.message.replace(str(folder) + "/", "") for p in problems])


def _articles_from_json() -> list[articles_mod.Article]:
    """One article record `{id, title, text, url?, date?, author?}` (or a list of them)."""
    try:
        body = json.loads(request.get_data(cache=False).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError(400, "invalid_json", f"the body is not valid UTF-8 JSON: {exc}") from None
    if not isinstance(body, (dict, list)):
        raise ApiError(400, "invalid_body", "send an article object {\"id\", \"title\", \"text\"} or a list of them")
    folder = Path(tempfile.mkdtemp(prefix="qa-upload-"))
    try:
        path = folder / "upload.json"
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        found, problems = articles_mod.load_file(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return _usable(found, [p.message.replace(str(path), "body") for p in problems])


def _usable(found: list, problems: list[str]) -> list:
    """All or nothing: one bad record refuses the whole upload."""
    if problems or not found:
        raise ApiError(422, "invalid_article", "; ".join(problems) or "the upload holds no article")
    return found


def _publish(add=(), remove=(), replace=True) -> dict:
    """Publish the change and switch this worker to it."""
    service = current_app.extensions["qa"]
    try:
        manifest = index_mod.update(service.config, service.embedder, list(add), list(remove), replace)
    except index_mod.UnknownArticle as exc:
        raise ApiError(404, "article_not_found", str(exc)) from None
    except index_mod.DuplicateArticle as exc:
        raise ApiError(409, "duplicate_article", str(exc)) from None
    except OSError as exc:
        raise ApiError(507, "storage_error", f"the new index version could not be written ({exc.strerror or exc}); "
                                             "the previous version is still served") from None
    service.refresh()
    return manifest


@bp.post("/articles")
def add_article():
    """Add (or replace) articles from JSON or an uploaded file; 201 with the new version."""
    _authorise()
    replace = _replace_flag()
    added = _articles_from_json() if request.mimetype == "application/json" else (
        _articles_from_upload() if request.mimetype == "multipart/form-data" else None)
    if added is None:
        raise ApiError(415, "unsupported_media_type", "send JSON (application/json) or a file (multipart/form-data)")
    manifest = _publish(add=added, replace=replace)
    return jsonify({"added": [a.id for a in added], "version": manifest["version"],
                    "counts": manifest["counts"]}), 201


@bp.delete("/articles/<path:article_id>")
def remove_article(article_id: str):
    """Remove one article; 200 with the new version, 404 if there is no such article."""
    _authorise()
    manifest = _publish(remove=[article_id])
    return jsonify({"removed": article_id, "version": manifest["version"], "counts": manifest["counts"]})


@bp.post("/sources")
def add_source():
    """Register a feed, sitemap or page for the scheduled refresh; 201 (200 when it was registered already)."""
    _authorise()
    try:
        body = json.loads(request.get_data(cache=False).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_json", "send JSON like {\"url\": \"https://example.org/feed.rss\"}") from None
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url.strip() or len(url) > 2000:
        raise ApiError(400, "invalid_url", "send {\"url\": \"https://…\"}: the address of a feed, sitemap or page")
    url = url.strip()
    try:
        check_address(url, current_app.extensions["qa"].config.allow_private_urls)
    except FetchError as exc:
        if exc.kind != "dns":  # a name that does not resolve now may later; the crawl will report it
            raise ApiError(422, "refused_url", str(exc)) from None
    with _state() as state:
        known = state.source(_source_id(url))
        source = known or state.add_source(url)
    return jsonify(source), 200 if known else 201


@bp.get("/sources")
def list_sources():
    """The registered sources with their last run's summary."""
    _authorise()
    with _state() as state:
        return jsonify(state.sources())


@bp.delete("/sources/<source_id>")
def remove_source(source_id: str):
    """Stop refreshing a source (its articles stay in the index); 404 when there is no such source."""
    _authorise()
    with _state() as state:
        if not state.remove_source(source_id):
            raise ApiError(404, "source_not_found", f"no source with id {source_id!r}")
    return jsonify({"removed": source_id})


@contextmanager
def _state():
    """The crawl state of the served index folder, closed after the request."""
    state = State(current_app.extensions["qa"].config.index_dir)
    try:
        yield state
    finally:
        state.close()
