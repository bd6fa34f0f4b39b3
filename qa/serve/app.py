"""The Flask application factory: the model and the index are loaded here, once, never per request."""
from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from qa.config import Config
from qa.serve import admin, api, errors, metrics, web
from qa.service import Service


def create_app(config: Config | None = None, service: Service | None = None) -> Flask:
    """Build the app around one loaded service (made from `config` unless given)."""
    config = config or Config.from_env()
    app = Flask("qa", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = config.max_upload_bytes
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["qa"] = service or Service(config)
    metrics.register(app)  # first, so that every answer, the rate limiter's too, is timed and logged
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
