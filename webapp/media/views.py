from __future__ import annotations

import re

import sqlalchemy as sa
from flask import Response, abort, request

from webapp.extensions import db
from webapp.media import bp
from webapp.models import DocumentAsset

_DIGEST = re.compile(r"[0-9a-f]{64}")
_ONE_YEAR = 365 * 24 * 3600


@bp.get("/media/<digest>")
def asset(digest: str):
    """An article's image, by the SHA-256 of its bytes: it never changes, so cache it long."""
    if not _DIGEST.fullmatch(digest):
        abort(404, description="There is no such image.")
    row = db.session.execute(
        sa.select(DocumentAsset.content_type, DocumentAsset.data).where(
            DocumentAsset.digest == digest
        )
    ).first()
    if row is None:
        abort(404, description="There is no such image.")
    response = Response(row.data, mimetype=row.content_type)
    response.set_etag(digest)
    response.cache_control.public = True
    response.cache_control.max_age = _ONE_YEAR
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response.make_conditional(request)
