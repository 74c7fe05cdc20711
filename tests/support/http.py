"""A small HTTP client for process-level tests: one keep-alive connection, one session."""

from __future__ import annotations

import html
import http.client
import re
from urllib.parse import urlencode, urlsplit

from tests.conftest import PASSWORD, SEED_SLUG

HTMX = {"HX-Request": "true"}


class Client:
    """Talks to one server; `cookie` (the session) may be handed to a client of another."""

    def __init__(self, base_url: str, cookie: str = "", timeout: float = 30):
        parts = urlsplit(base_url)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.cookie = cookie
        self.csrf = ""

    def request(self, method: str, path: str, body: dict | None = None, headers=None):
        """(status, headers, text) of one request; keeps the session cookie up to date."""
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.csrf:
            headers["X-CSRFToken"] = self.csrf
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed the kept-alive connection: one new connection, one retry
            # for reads only (a write is never sent twice).
            self.connection.close()
            self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            if method != "GET":
                raise
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        payload = response.read().decode("utf-8", "replace")
        if cookie := response.getheader("Set-Cookie"):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response, payload

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path: str, body: dict, headers=None):
        return self.request("POST", path, body, headers)

    def sign_up(self, username: str) -> None:
        self._account_form("/signup", username)

    def log_in(self, username: str) -> None:
        self._account_form("/login", username)

    def _account_form(self, path: str, username: str) -> None:
        status, _, page = self.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        status, _, body = self.post(
            path, {"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert status == 302, (status, body[:500])
        self.take_csrf()

    def take_csrf(self) -> None:
        """The CSRF token of this session, from a page (sent as a header from now on)."""
        status, _, page = self.get("/")
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)

    def note(self, selection: dict, body: str, slug: str = SEED_SLUG, **fields):
        """Save a private note (htmx); returns (status, response text)."""
        data = {**selection, "body": body, "intent": "comment", **fields}
        status, _, text = self.post(f"/articles/{slug}/annotations", data, HTMX)
        return status, text


def words(base_url: str, slug: str = SEED_SLUG) -> list[dict]:
    """Selections (start, end, exact, version) of the article's words, from its page."""
    status, _, page = Client(base_url).get(f"/articles/{slug}")
    assert status == 200
    version = re.search(r'data-version="(\d+)"', page).group(1)
    found = []
    for offset, chunk in re.findall(r'<span data-o="(\d+)">([^<]*)</span>', page):
        text = html.unescape(chunk)
        for match in re.finditer(r"\w{4,}", text):
            start = int(offset) + match.start()
            found.append(
                {
                    "start": str(start),
                    "end": str(start + len(match.group())),
                    "exact": match.group(),
                    "version": version,
                }
            )
    assert found, "no words found on the article page"
    return found
