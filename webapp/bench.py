"""The benchmark's floor: a hello-world route of this app, served only when BENCH_HELLO is set.

`make bench` reports every page as a ratio to this route, measured through the same stack
(gunicorn, the app's request hooks and headers) in the same run.
"""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("bench", __name__)


@bp.get("/bench/hello")
def hello():
    """The smallest answer the app gives: the benchmark's floor."""
    return "ok"


def init_app(app: Flask) -> None:
    if app.config.get("BENCH_HELLO"):
        app.register_blueprint(bp)
