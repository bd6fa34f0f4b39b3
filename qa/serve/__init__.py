"""Serving: the Flask app, its JSON API, admin API, chat page, OpenAPI document and gunicorn."""
