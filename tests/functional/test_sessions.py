"""Session cookies remembered once verified (webapp/sessions.py): a remembered cookie is
still refused once too old, a changed secret key verifies nothing remembered under the old
one, and a request that changes its session in place changes nobody else's."""

from __future__ import annotations

import time

from flask import session


def _cookie(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


def _open(app, cookie: str) -> dict:
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        return dict(session)


def test_a_remembered_cookie_is_refused_once_too_old(app, monkeypatch):
    cookie = _cookie(app, {"_user_id": "7:token"})
    assert _open(app, cookie) == {"_user_id": "7:token"}
    assert _open(app, cookie) == {"_user_id": "7:token"}  # remembered now
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(time, "time", lambda: later)
    assert _open(app, cookie) == {}


def test_a_new_secret_key_does_not_accept_cookies_remembered_under_the_old(app):
    cookie = _cookie(app, {"_user_id": "7:token"})
    assert _open(app, cookie) == {"_user_id": "7:token"}
    app.secret_key = "another-secret"
    assert _open(app, cookie) == {}


def test_a_forged_cookie_is_refused(app):
    cookie = _cookie(app, {"_user_id": "7:token"})
    assert _open(app, cookie)
    payload, _, signature = cookie.partition(".")
    assert _open(app, f"{payload}.x{signature}") == {}


def test_each_request_gets_its_own_copy_of_a_remembered_session(app):
    cookie = _cookie(app, {"_flashes": [["info", "one"]]})
    with app.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        session["_flashes"].append(["info", "two"])  # as flash() does
    assert _open(app, cookie) == {"_flashes": [["info", "one"]]}


def test_the_session_cookie_is_read_from_the_header_as_request_cookies_has_it(app):
    cookie = _cookie(app, {"_user_id": "7:token"})
    other = _cookie(app, {"_user_id": "8:token"})
    seven, eight = {"_user_id": "7:token"}, {"_user_id": "8:token"}
    cases = [
        (f"session={cookie}", seven),
        (f"theme=dark; session={other}; x=1", eight),
        (f'session="{cookie}"', seven),
        (f"session={cookie}; session={other}", seven),  # the first, as request.cookies
        (f"session={other}; session={cookie}", eight),
        (f"sessionx={cookie}", {}),
        ("session=", {}),
        (f"session={cookie}x", {}),
    ]
    for header, expected in cases * 2:  # the second time, remembered
        with app.test_request_context("/", headers={"Cookie": header}):
            assert dict(session) == expected, header


def test_a_visitor_who_is_not_logged_in_browses_the_library_without_a_session_cookie(client):
    # They write nothing, so their pages carry no CSRF token, which would cost a session.
    response = client.get("/")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert "X-CSRFToken" not in response.get_data(as_text=True)
