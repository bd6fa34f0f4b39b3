"""Cited answers from news articles.

The package reads as the pipeline: ingest/ (articles, text, passages) -> model/ (embeddings) ->
index/ (versions on disk) -> retrieve/ (hybrid search) -> answer/ (sentences, found or not) ->
serve/ (Flask app, API, chat, gunicorn). `create_app` is the Flask application factory.
"""
from __future__ import annotations

__version__ = "0.2.0"


def __getattr__(name: str):
    """`qa.create_app` without importing Flask for the command line's other commands."""
    if name == "create_app":
        from qa.serve.app import create_app

        return create_app
    raise AttributeError(f"module 'qa' has no attribute {name!r}")
