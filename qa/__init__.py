"""Cited answers from news articles: `create_app` is the Flask application factory."""
from __future__ import annotations

__version__ = "0.1.0"


def create_app(config=None, service=None):
    """Build the app; the model and the index are loaded here, once, never per request."""
    from flask import Flask
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    from . import admin, api, errors, web
    from .config import Config
    from .service import Service

    config = config or Config.from_env()
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_bytes
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["qa"] = service or Service(config)
    Limiter(get_remote_address, app=app, default_limits=[config.rate_limit] if config.rate_limit else [],
            storage_uri="memory://", headers_enabled=True)

    @app.before_request
    def newest_version() -> None:
        """Every request sees the index version published last."""
        app.extensions["qa"].refresh()

    errors.register(app)
    for blueprint in (api.bp, admin.bp, web.bp):
        app.register_blueprint(blueprint)
    return app
