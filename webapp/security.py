"""Response headers (CSP and friends) and the write-intent flag for write requests."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

from webapp.database import start_request

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def content_security_policy() -> str:
    config = current_app.config
    script_src = f"'self' {config['HTMX_CDN_URL']} '{config['HTMX_INTEGRITY']}'"
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {script_src}",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def init_app(app: Flask) -> None:
    @app.before_request
    def _mark_write_intent() -> None:
        start_request(writes=request.method in WRITE_METHODS)

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", content_security_policy())
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.vary.add("HX-Request")
        return response
