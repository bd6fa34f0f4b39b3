"""Cited answers from news articles: `create_app` is the Flask application factory."""
from __future__ import annotations

__version__ = "0.1.0"


def create_app(config=None, service=None):
    """Build the app; the model and the index are loaded here, once, never per request."""
    from flask import Flask

    from . import api, errors, web
    from .config import Config
    from .service import Service

    config = config or Config.from_env()
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = api.MAX_BODY_BYTES
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["qa"] = service or Service(config)
    errors.register(app)
    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    return app
