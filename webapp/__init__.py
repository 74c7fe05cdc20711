"""Marginalia: read an article, highlight passages, comment, discuss with a class."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from webapp.config import PROJECT_ROOT, derived_config, load_config


def create_app(config: dict | None = None) -> Flask:
    """Build the app; `config` overrides what the environment gives."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    instance_path = Path((config or {}).get("INSTANCE_PATH", app.instance_path))
    app.config.update(load_config(instance_path))
    if config:
        app.config.update(config)
    app.config.update(derived_config(app.config))

    from webapp import (
        bench,
        cli,
        compression,
        csrf_check,
        errors,
        page_cache,
        security,
        sessions,
        templating,
    )
    from webapp.account import bp as account_bp
    from webapp.annotations import bp as annotations_bp
    from webapp.api import bp as api_bp
    from webapp.articles import bp as articles_bp
    from webapp.auth import bp as auth_bp
    from webapp.classes import bp as classes_bp
    from webapp.database import configure_engine, guard_sqlite_file
    from webapp.discussion import bp as discussion_bp
    from webapp.exports import bp as exports_bp
    from webapp.extensions import csrf, db, login_manager, migrate
    from webapp.health import bp as health_bp
    from webapp.media import bp as media_bp
    from webapp.notifications import bp as notifications_bp
    from webapp.reader import bp as reader_bp
    from webapp.reports import bp as reports_bp
    from webapp.routing import RowIdConverter

    app.url_map.converters["id"] = RowIdConverter
    app.session_interface = sessions.RememberingSessionInterface()
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    csrf_check.init_app(app, csrf)
    login_manager.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        guard_sqlite_file(db.engine)

    app.register_blueprint(reader_bp)
    app.register_blueprint(annotations_bp)
    app.register_blueprint(discussion_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(classes_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(articles_bp)
    app.register_blueprint(media_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(exports_bp)
    security.init_app(app)
    compression.init_app(app)
    page_cache.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    cli.init_app(app)
    bench.init_app(app)
    if proxies := app.config["TRUSTED_PROXIES"]:
        # Behind a reverse proxy: trust its X-Forwarded-* headers (client address, https).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app
