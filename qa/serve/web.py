"""The chat page and its assets, served by the app itself (no CDN, works offline)."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory

WEB = Path(__file__).resolve().parents[2] / "web"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")

bp = Blueprint("web", __name__)


@bp.after_app_request
def security_headers(response):
    """No inline scripts, no sniffing, no framing: article text can never run as code."""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


@bp.get("/")
def index():
    """The chat."""
    return send_from_directory(WEB, "index.html")


@bp.get("/articles")
def articles():
    """The list of articles, sortable by date; the page script loads it."""
    return send_from_directory(WEB, "index.html")


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    """An article page; the page script loads it and scrolls to the passage in the URL fragment."""
    return send_from_directory(WEB, "index.html")


@bp.get("/static/<path:name>")
def static(name: str):
    """Page assets (scripts, styles, icons)."""
    return send_from_directory(WEB, name)
