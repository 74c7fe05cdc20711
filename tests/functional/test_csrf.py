"""CSRF protection switched on: writes without the token are refused with a clear message and
store nothing; htmx sends the token from the page's hx-headers, plain forms in a field."""

from __future__ import annotations

import pytest
from flask import g
from itsdangerous import URLSafeTimedSerializer

from tests.conftest import HTMX, PASSWORD, SEED_SLUG
from tests.functional.helpers import (
    annotation_count,
    csrf_from_hx_headers,
    current_version,
    fetch_annotation,
    latest_annotation,
    page,
    parse,
    select,
)
from webapp.errors import CSRF_MESSAGE


@pytest.fixture
def app_config() -> dict:
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def fields(db) -> dict[str, str]:
    return select(current_version(db).text, "Russian forces")


def log_in(client, auth, username: str = "alice") -> None:
    auth.create(username)
    form = page(client.get("/login")).find("form", class_="auth-form")
    token = form.find("input", name="csrf_token").get("value")
    assert token
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def page_token(client) -> str:
    return csrf_from_hx_headers(page(client.get(f"/articles/{SEED_SLUG}")))


def post_annotation(client, fields, headers=None, **extra):
    return client.post(
        f"/articles/{SEED_SLUG}/annotations", data={**fields, **extra}, headers=headers or {}
    )


def test_login_without_the_token_is_refused(client, auth):
    auth.create("alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert CSRF_MESSAGE in page(response).text()
    assert page(client.get("/")).find("span", class_="whoami") is None


def test_htmx_post_without_the_token_is_400_with_the_message(client, auth, db, fields):
    log_in(client, auth)
    before = annotation_count(db)
    response = post_annotation(client, fields, headers=HTMX)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#flash"
    alert = parse(response.get_data(as_text=True)).find("p", role="alert")
    assert alert.text() == CSRF_MESSAGE
    assert annotation_count(db) == before


def test_plain_post_without_the_token_is_400_with_the_message(client, auth, db, fields):
    log_in(client, auth)
    before = annotation_count(db)
    response = post_annotation(client, fields)
    assert response.status_code == 400
    assert CSRF_MESSAGE in page(response).find("main").text()
    assert annotation_count(db) == before


def test_a_wrong_token_is_refused(client, auth, db, fields):
    log_in(client, auth)
    before = annotation_count(db)
    token = page_token(client)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = post_annotation(client, fields, headers={**HTMX, "X-CSRFToken": forged})
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True).replace("&#39;", "'")
    assert annotation_count(db) == before


def test_a_token_from_another_session_is_refused(app, client, auth, db, fields):
    """A well-signed token whose secret belongs to another session."""
    log_in(client, auth)
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="wtf-csrf-token")
    other_token = serializer.dumps("0" * 40)
    before = annotation_count(db)
    response = post_annotation(client, fields, headers={**HTMX, "X-CSRFToken": other_token})
    assert response.status_code == 400
    assert annotation_count(db) == before


def test_htmx_post_with_the_header_from_hx_headers_succeeds(client, auth, db, fields):
    log_in(client, auth)
    before = annotation_count(db)
    token = page_token(client)
    response = post_annotation(client, fields, headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert annotation_count(db) == before + 1
    assert latest_annotation(db).exact == "Russian forces"


def test_a_token_checked_before_is_taken_again_and_only_in_its_session(
    app, client, auth, db, fields
):
    """A page's token sent again (its second write, header or field) is valid as the
    first time; the same token sent from another browser session, once known valid, is
    refused there as any token not of its session."""
    log_in(client, auth)
    token = page_token(client)
    before = annotation_count(db)
    for sent in ({"headers": {**HTMX, "X-CSRFToken": token}}, {"csrf_token": token}):
        headers = sent.pop("headers", {})
        response = post_annotation(client, fields, headers=headers, **sent)
        assert response.status_code in (200, 302), response.get_data(as_text=True)
    assert annotation_count(db) == before + 2
    other = app.test_client()
    # (the requests share the test's app context, where Flask-WTF keeps the token it made)
    g.pop("csrf_token", None)
    log_in(other, auth, "bob")
    page_token(other)  # (bob's session has a raw token of its own)
    response = post_annotation(other, fields, headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 400
    assert CSRF_MESSAGE in response.get_data(as_text=True).replace("&#39;", "'")
    response = post_annotation(other, fields, csrf_token=token)
    assert response.status_code == 400
    assert annotation_count(db) == before + 2


def test_a_token_checked_before_is_refused_once_it_is_tampered_with(client, auth, db, fields):
    log_in(client, auth)
    token = page_token(client)
    assert (
        post_annotation(client, fields, headers={**HTMX, "X-CSRFToken": token}).status_code == 200
    )
    before = annotation_count(db)
    for forged in (token + "A", token[:-1], token.upper()):
        response = post_annotation(client, fields, headers={**HTMX, "X-CSRFToken": forged})
        assert response.status_code == 400
    assert annotation_count(db) == before


def test_plain_form_with_the_token_field_succeeds(client, auth, db, fields):
    log_in(client, auth)
    root = page(client.get(f"/articles/{SEED_SLUG}"))
    toolbar = root.find("form", id="annotate-form")
    token = toolbar.find("input", name="csrf_token").get("value")
    response = post_annotation(client, fields, csrf_token=token)
    assert response.status_code == 302
    assert latest_annotation(db).exact == "Russian forces"


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_edit_and_delete_need_the_token(client, auth, db, fields, action):
    log_in(client, auth)
    token = page_token(client)
    headers = {**HTMX, "X-CSRFToken": token}
    assert (
        post_annotation(client, fields, headers=headers, intent="comment", body="keep").status_code
        == 200
    )
    annotation = latest_annotation(db)
    refused = client.post(
        f"/annotations/{annotation.id}/{action}", data={"body": "changed"}, headers=HTMX
    )
    assert refused.status_code == 400
    assert refused.headers["HX-Retarget"] == "#flash"
    stored = fetch_annotation(db, annotation.id)
    assert stored.body_markdown == "keep" and stored.deleted_at is None
    accepted = client.post(
        f"/annotations/{annotation.id}/{action}", data={"body": "changed"}, headers=headers
    )
    assert accepted.status_code == 200
    stored = fetch_annotation(db, annotation.id)
    assert stored.body_markdown == "changed" if action == "edit" else stored.deleted_at


def test_logout_needs_the_token(client, auth):
    log_in(client, auth)
    assert client.post("/logout").status_code == 400
    assert page(client.get("/")).find("span", class_="whoami") is not None
    token = csrf_from_hx_headers(page(client.get("/")))
    assert client.post("/logout", headers={"X-CSRFToken": token}).status_code == 302
    assert page(client.get("/")).find("span", class_="whoami") is None


def test_a_visitor_who_highlights_is_asked_to_log_in_not_to_reload(client, fields):
    # A visitor's page has no token in hx-headers; the toolbar's form brings its own, so
    # pressing h answers "log in" (401), not the missing-token message.
    root = page(client.get(f"/articles/{SEED_SLUG}"))
    assert root.find("body").get("hx-headers") is None
    token = root.by_id("annotate-form").find("input", name="csrf_token").get("value")
    response = post_annotation(client, {**fields, "csrf_token": token}, headers=HTMX)
    assert response.status_code == 401
    assert "Log in to save highlights and comments." in response.get_data(as_text=True)
