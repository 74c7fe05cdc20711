"""Responses compressed with gzip when the client accepts it (pages of notes shrink ~20×).

Text answers only (HTML, JSON, CSS, JavaScript, plain text), above a small size, built in
memory; files streamed from disk and answers that already carry an encoding are left alone.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

MIN_BYTES = 1024
LEVEL = 5
TEXT_TYPES = (
    "text/html",
    "text/plain",
    "text/css",
    "text/csv",
    "text/markdown",
    "application/json",
    "application/ld+json",
    "application/javascript",
    "text/javascript",
)


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (not refused with q=0)."""
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip().lower()
            return not (q.startswith("q=") and q[2:].strip() in ("0", "0.0", "0.00", "0.000"))
    return False


def init_app(app: Flask) -> None:
    @app.after_request
    def _compress(response: Response) -> Response:
        response.vary.add("Accept-Encoding")
        if (
            response.direct_passthrough
            or response.is_streamed
            or response.status_code < 200
            or response.status_code in (204, 304)
            or "Content-Encoding" in response.headers
            or response.mimetype not in TEXT_TYPES
            or not accepts_gzip(request.headers.get("Accept-Encoding", ""))
        ):
            return response
        data = response.get_data()
        if len(data) < MIN_BYTES:
            return response
        response.set_data(gzip.compress(data, LEVEL))
        response.headers["Content-Encoding"] = "gzip"
        if response.headers.get("ETag") and not response.headers["ETag"].startswith("W/"):
            response.headers["ETag"] = "W/" + response.headers["ETag"]
        return response
