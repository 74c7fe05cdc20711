"""Response headers (CSP and friends), the write-intent flag for write requests, and
requests without control characters."""

from __future__ import annotations

import re
from functools import lru_cache

from flask import Flask, Response, abort, current_app, request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.utils import cached_property

from webapp.database import start_request
from webapp.routing import LimitedRequest
from webapp.text.sanitize import CONTROL_CHARACTERS, drop_control_characters

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def content_security_policy() -> str:
    config = current_app.config
    return policy_for(config["HTMX_CDN_URL"], config["HTMX_INTEGRITY"])


@lru_cache(maxsize=8)
def policy_for(htmx_url: str, htmx_integrity: str) -> str:
    """The Content-Security-Policy allowing htmx from this address with this hash (built
    once: it is sent on every response)."""
    script_src = f"'self' {htmx_url} '{htmx_integrity}'"
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


CONTROL_IN_PATH = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_IN_PATH_MESSAGE = "The address contains a control character; no page has such an address."


def _without_controls(value):
    return drop_control_characters(value) if isinstance(value, str) else value


def _has_controls(value) -> bool:
    return isinstance(value, str) and CONTROL_CHARACTERS.search(value) is not None


class ControlFreeMultiDict(ImmutableMultiDict):
    """Query and form parameters with control characters dropped from names and values,
    as a comment's always were: no code sees them, whichever the field (PostgreSQL refuses
    NUL in text, and none of them can be seen in order to be removed). Files stay as sent."""

    def __init__(self, mapping=None) -> None:
        if mapping is None:
            super().__init__()
            return
        # The parsers' list of pairs without a control character (nearly every one) is
        # taken as it is: the same dict as the one built through MultiDict, in a third of
        # the time (every write's form and query string).
        if type(mapping) is list and not any(
            _has_controls(k) or _has_controls(v) for k, v in mapping
        ):
            super().__init__(mapping)
            return
        pairs = MultiDict(mapping).items(multi=True)
        super().__init__([(_without_controls(k), _without_controls(v)) for k, v in pairs])


URLENCODED = "application/x-www-form-urlencoded"
# A query string with nothing to decode: no %, no +, no ; and nothing outside ASCII.
PLAIN_QUERY = re.compile(rb"[A-Za-z0-9._~=&-]*")


class ControlFreeRequest(LimitedRequest):
    """The app's request class: per-route body limits, parameters without control characters."""

    parameter_storage_class = ControlFreeMultiDict

    @cached_property
    def args(self) -> ControlFreeMultiDict:
        """The query string's parameters. A plain one (the live poll's, every two seconds)
        is split as parse_qsl splits it, and nothing in it needs decoding: the same pairs
        without its per-part unquoting and the decode of the whole string."""
        query = self.query_string
        if PLAIN_QUERY.fullmatch(query):
            parts = query.decode("ascii").split("&")
            return self.parameter_storage_class([p.partition("=")[::2] for p in parts if p])
        return super().args

    def make_form_data_parser(self) -> FormDataParser:
        """werkzeug's form parser; for a urlencoded body (every write's) made without its
        limits, which it does not use for one: such a body is read whole from the stream,
        which max_content_length limits (tests/unit/test_control_free_parameters.py checks
        that werkzeug still parses it so). Working the limits out (the route's, else the
        app's, through proxies) cost a write more than the parsing itself."""
        if self.mimetype == URLENCODED:
            return self.form_data_parser_class(
                stream_factory=self._get_file_stream, cls=self.parameter_storage_class
            )
        return super().make_form_data_parser()


def init_app(app: Flask) -> None:
    app.request_class = ControlFreeRequest

    @app.before_request
    def _refuse_control_characters_in_the_path() -> None:
        # A path is an address, not text to clean: dropping a character would name another.
        if CONTROL_IN_PATH.search(request.path):
            abort(400, description=CONTROL_IN_PATH_MESSAGE)

    @app.before_request
    def _mark_write_intent() -> None:
        view = current_app.view_functions.get(request.endpoint)
        reads_first = getattr(view, "reads_first", False)  # it takes the lock itself
        start_request(writes=request.method in WRITE_METHODS and not reads_first)

    @app.after_request
    def _headers(response: Response) -> Response:
        add_security_headers(response, content_security_policy())
        return response


# The headers every response has unless its view set them (lower-cased name, name, value).
SECURITY_HEADERS = (
    ("x-content-type-options", "X-Content-Type-Options", "nosniff"),
    ("referrer-policy", "Referrer-Policy", "same-origin"),
    ("x-frame-options", "X-Frame-Options", "DENY"),
)


def add_security_headers(response: Response, policy: str) -> None:
    """The security headers the response lacks, and HX-Request in its Vary. The names it
    has are read in one pass (a look-up per header walks them all, on every response)."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.to_wsgi_list()}
    if "content-security-policy" not in present:
        headers.add("Content-Security-Policy", policy)
    for lowered, name, value in SECURITY_HEADERS:
        if lowered not in present:
            headers.add(name, value)
    if "vary" in present:
        response.vary.add("HX-Request")  # (merged with what is there)
    else:
        headers.add("Vary", "HX-Request")
