"""Sign up, log in, log out, and the `next` redirect."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, SEED_SLUG
from tests.functional.helpers import page
from webapp.models import User


def user_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(User.id)))


def signed_in_as(client) -> str | None:
    whoami = page(client.get("/")).find("span", class_="whoami")
    return whoami.find("strong").text() if whoami else None


@pytest.mark.parametrize("path", ["/login", "/signup"])
def test_forms_have_username_and_password_fields(client, path):
    response = client.get(path)
    assert response.status_code == 200
    form = page(response).find("form", class_="auth-form")
    fields = {i.get("name"): i for i in form.find_all("input")}
    assert "username" in fields
    assert fields["password"].get("type") == "password"
    assert "hx-request" in response.headers["Vary"].lower()


def test_signup_creates_an_account_and_logs_in(client, db):
    before = user_count(db)
    response = client.post("/signup", data={"username": "newreader", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert user_count(db) == before + 1
    user = db.session.scalar(sa.select(User).where(User.username == "newreader"))
    assert user.password_hash != PASSWORD and user.check_password(PASSWORD)
    assert signed_in_as(client) == "newreader"


def test_signup_refuses_a_duplicate_username_case_insensitively(client, db, auth):
    auth.create("alice")
    before = user_count(db)
    response = client.post("/signup", data={"username": "Alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "The username 'Alice' is taken" in page(response).find("form").text()
    assert user_count(db) == before
    assert signed_in_as(client) is None


def test_signup_refuses_a_short_password(client, db):
    before = user_count(db)
    response = client.post("/signup", data={"username": "shorty", "password": "seven77"})
    assert response.status_code == 400
    assert "A password has at least 8 characters" in response.get_data(as_text=True)
    assert user_count(db) == before
    assert signed_in_as(client) is None


@pytest.mark.parametrize("username", ["ab", "has space", "x" * 41, ""])
def test_signup_refuses_a_malformed_username(client, db, username):
    before = user_count(db)
    response = client.post("/signup", data={"username": username, "password": PASSWORD})
    assert response.status_code == 400
    assert "A username has 3 to 40 characters" in response.get_data(as_text=True)
    assert user_count(db) == before


def test_signup_form_keeps_the_typed_username_after_an_error(client):
    response = client.post("/signup", data={"username": "keepme", "password": "short"})
    field = page(response).find("input", name="username")
    assert field.get("value") == "keepme"


def test_login_with_good_credentials(client, auth):
    auth.create("alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_as(client) == "alice"


def test_login_username_is_case_insensitive(client, auth):
    auth.create("alice")
    response = client.post("/login", data={"username": " ALICE ", "password": PASSWORD})
    assert response.status_code == 302
    assert signed_in_as(client) == "alice"


@pytest.mark.parametrize(
    "username, password",
    [("alice", "wrong password"), ("nobody", PASSWORD), ("alice", ""), ("", "")],
)
def test_login_with_bad_credentials(client, auth, username, password):
    auth.create("alice")
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 400
    alert = page(response).find("p", role="alert")
    # The same message whether the user exists or not: no account enumeration.
    assert alert.text() == "That username and password do not match an account."
    assert signed_in_as(client) is None


def test_logout_ends_the_session(client, auth):
    auth.login("alice")
    assert signed_in_as(client) == "alice"
    response = client.post("/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in_as(client) is None
    # Reading is still open; saving is not.
    assert client.get(f"/articles/{SEED_SLUG}").status_code == 200


def test_logout_is_not_a_get(client, auth):
    auth.login("alice")
    response = client.get("/logout")
    assert response.status_code == 405
    assert signed_in_as(client) == "alice"


def test_login_follows_a_local_next(client, auth):
    auth.create("alice")
    target = f"/articles/{SEED_SLUG}?from=login"
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == target


def test_login_next_from_the_query_string_is_kept_in_the_form(client):
    root = page(client.get(f"/login?next=/articles/{SEED_SLUG}"))
    assert root.find("input", name="next").get("value") == f"/articles/{SEED_SLUG}"
    signup_link = root.find("section").find("a")
    assert signup_link.get("href") == f"/signup?next=/articles/{SEED_SLUG}"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "///evil.example",
        "http:/evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
    ],
)
def test_login_refuses_an_off_site_next(client, auth, target):
    auth.create("alice")
    response = client.post(
        "/login", data={"username": "alice", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    parts = urlsplit(location.replace("\\", "/"))
    assert parts.scheme == "" and parts.netloc == "", location
    assert location.startswith("/") and not location.startswith("//")


def test_signup_refuses_an_off_site_next(client):
    response = client.post(
        "/signup",
        data={"username": "newreader", "password": PASSWORD, "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_signup_follows_a_local_next(client):
    response = client.post(
        "/signup",
        data={"username": "newreader", "password": PASSWORD, "next": f"/articles/{SEED_SLUG}"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/articles/{SEED_SLUG}"


def test_session_cookie_is_httponly_and_samesite(client, auth):
    auth.create("alice")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    cookie = next(
        v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("session=")
    )
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
