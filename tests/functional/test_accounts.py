"""Accounts and sessions: logout ends the session everywhere it was copied, remember
cookies, one normalised username for sign-up, login and limits, login and join-code
throttling that slows guessing without locking the owner out, and login timing parity.

Waiting is emulated by moving recorded failures back in time (`wait_out`), never by
sleeping: no test depends on the machine's speed.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from tests.conftest import PASSWORD, copy_database, make_config
from tests.functional.helpers import page
from tests.functional.test_auth import signed_in_as
from webapp import create_app
from webapp.extensions import db as _db
from webapp.models import Classroom, FailedAttempt, LoginSession, Membership, User
from webapp.services import accounts
from webapp.services.limits import (
    LOGIN_PER_ACCOUNT,
    LOGIN_PER_ACCOUNT_AND_CLIENT,
    LOGIN_PER_CLIENT,
)

KELVIN_KATE = "\u212aate"  # KELVIN SIGN, then "ate"
HOME = "198.51.100.20"  # the owner's address
ELSEWHERE = "203.0.113.66"  # someone else's
REVISION = "i6acct_sessions_usernames"


def at(address: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": address}}


def log_in(client, username: str, password: str = PASSWORD, address: str = HOME, **form):
    data = {"username": username, "password": password, **form}
    return client.post("/login", data=data, **at(address))


def set_cookies(header_values: list[str]) -> dict:
    cookies = {}
    for value in header_values:
        jar = SimpleCookie()
        jar.load(value)
        cookies.update(jar)
    return cookies


def wait_out(db, seconds: float) -> None:
    """Let `seconds` pass for the limits: every recorded failure moves that far back."""
    for attempt in db.session.scalars(sa.select(FailedAttempt)):
        attempt.at -= timedelta(seconds=seconds)
    db.session.commit()


def retry_after(response) -> int:
    assert response.status_code == 429, response.get_data(as_text=True)
    return int(response.headers["Retry-After"])


def fail_logins(client, db, username: str, times: int, address: str = ELSEWHERE) -> None:
    """`times` wrong passwords, each after waiting as long as the app asks."""
    for _ in range(times):
        response = log_in(client, username, "wrong guess", address)
        if response.status_code == 429:
            wait_out(db, retry_after(response))
            response = log_in(client, username, "wrong guess", address)
        assert response.status_code == 400, response.get_data(as_text=True)


def alert(response) -> str:
    return page(response).find("p", role="alert").text()


# --- sessions and cookies -------------------------------------------------------------------


def test_cookies_captured_before_logout_do_not_work_after_it(app, client, auth):
    auth.create("kate")
    assert log_in(client, "kate", remember="1").status_code == 302
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value

    def replay(**cookies) -> str | None:
        other = app.test_client()
        for name, value in cookies.items():
            other.set_cookie(name, value)
        return signed_in_as(other)

    # Before logout each cookie alone opens the account (so the replay below means something).
    assert replay(session=session_cookie) == "kate"
    assert replay(remember_token=remember_cookie) == "kate"

    assert client.post("/logout").status_code == 302
    assert signed_in_as(client) is None
    assert replay(session=session_cookie) is None
    assert replay(remember_token=remember_cookie) is None
    assert replay(session=session_cookie, remember_token=remember_cookie) is None


def test_logging_out_on_one_device_leaves_the_others_logged_in(app, client, auth):
    auth.create("kate")
    phone = app.test_client()
    log_in(client, "kate", remember="1")
    log_in(phone, "kate", remember="1")
    client.post("/logout")
    assert signed_in_as(client) is None
    assert signed_in_as(phone) == "kate"


def test_the_remember_cookie_changes_at_each_login(client, auth):
    auth.create("kate")
    log_in(client, "kate", remember="1")
    first = client.get_cookie("remember_token").value
    log_in(client, "kate", remember="1")  # logging in again replaces the session
    second = client.get_cookie("remember_token").value
    client.post("/logout")
    log_in(client, "kate", remember="1")
    third = client.get_cookie("remember_token").value
    assert len({first, second, third}) == 3


def test_logging_in_again_ends_the_session_it_replaces(app, client, auth):
    auth.create("kate")
    log_in(client, "kate")
    old_session = client.get_cookie("session").value
    log_in(client, "kate")
    other = app.test_client()
    other.set_cookie("session", old_session)
    assert signed_in_as(other) is None
    assert signed_in_as(client) == "kate"


def test_the_login_form_offers_to_remember_for_the_configured_days(client):
    form = page(client.get("/login")).find("form", class_="auth-form")
    box = form.find("input", name="remember")
    assert box.get("type") == "checkbox"
    assert "Keep me logged in on this device for 14 days" in " ".join(box.parent.text().split())


@pytest.mark.parametrize(
    "environment, secure, days",
    [({}, False, 14), ({"SESSION_COOKIE_SECURE": "1", "REMEMBER_DAYS": "3"}, True, 3)],
)
def test_remember_cookie_follows_session_cookie_secure_and_remember_days(
    tmp_path, migrated_db, monkeypatch, environment, secure, days
):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    copy_database(migrated_db, tmp_path / "test.db")
    app = create_app(make_config(tmp_path))
    with app.app_context():
        accounts.create_user(_db.session, "kate", PASSWORD)
        _db.session.commit()
        before = datetime.now(UTC)
        response = log_in(app.test_client(), "kate", remember="1")
        cookies = set_cookies(response.headers.getlist("Set-Cookie"))
        assert bool(cookies["session"]["secure"]) is secure
        assert bool(cookies["remember_token"]["secure"]) is secure
        assert cookies["remember_token"]["httponly"]
        expires = parsedate_to_datetime(cookies["remember_token"]["expires"])
        assert before + timedelta(days=days, seconds=-5) <= expires
        assert expires <= datetime.now(UTC) + timedelta(days=days, seconds=5)
        # The server holds the session no longer either.
        (record,) = _db.session.scalars(sa.select(LoginSession)).all()
        assert record.expires_at - record.created_at == timedelta(days=days)
        _db.session.remove()
        _db.engine.dispose()


def test_a_session_past_its_lifetime_no_longer_works(app, client, db, auth):
    auth.create("kate")
    log_in(client, "kate", remember="1")
    remember_cookie = client.get_cookie("remember_token").value
    db.session.execute(sa.update(LoginSession).values(expires_at=datetime(2000, 1, 1)))
    db.session.commit()
    assert signed_in_as(client) is None
    other = app.test_client()
    other.set_cookie("remember_token", remember_cookie)
    assert signed_in_as(other) is None


def test_a_session_from_before_login_sessions_were_recorded_is_logged_out(app, db, auth):
    """Sessions signed before this change carry a bare user id: they no longer load."""
    user = auth.create("kate")
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert signed_in_as(client) is None


# --- one normalised username ----------------------------------------------------------------


def test_kelvin_sign_failures_count_against_kate(client, db, auth):
    auth.create("kate")
    fail_logins(client, db, KELVIN_KATE, LOGIN_PER_ACCOUNT_AND_CLIENT.free + 7, address=HOME)
    assert set(db.session.scalars(sa.select(FailedAttempt.subject))) == {"kate"}
    # The right password for kate, from the same address, must now wait.
    response = log_in(client, "kate", address=HOME)
    assert retry_after(response) > 60
    assert "Too many failed logins for this account" in alert(response)
    assert signed_in_as(client) is None


@pytest.mark.parametrize("name", ["KATE", "Kate", KELVIN_KATE, "ｋａｔｅ"])
def test_signup_refuses_a_name_that_is_another_after_normalising(client, db, auth, name):
    auth.create("kate")
    before = db.session.scalar(sa.select(sa.func.count(User.id)))
    response = client.post("/signup", data={"username": name, "password": PASSWORD})
    assert response.status_code == 400
    assert "is taken; choose another" in alert(response)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == before


def test_signup_refuses_letters_outside_ascii_with_a_reason(client, db):
    response = client.post("/signup", data={"username": "kаte", "password": PASSWORD})
    assert response.status_code == 400
    assert "letters a-z or A-Z" in alert(response)
    assert db.session.scalar(sa.select(User).where(User.username == "kаte")) is None


def test_signup_stores_the_name_as_typed_and_its_key(client, db):
    client.post("/signup", data={"username": "Kate.M", "password": PASSWORD})
    user = db.session.scalar(sa.select(User).where(User.username == "Kate.M"))
    assert user.username_key == "kate.m"
    assert signed_in_as(client) == "Kate.M"


def test_login_accepts_the_name_in_any_of_its_forms(client, auth):
    auth.create("kate")
    assert log_in(client, KELVIN_KATE).status_code == 302
    assert signed_in_as(client) == "kate"


# --- throttling: per account, per address, growing delays ---------------------------------


def test_a_burst_from_one_address_does_not_lock_the_owner_out_elsewhere(app, client, db, auth):
    auth.create("kate")
    burst = LOGIN_PER_ACCOUNT.free + 6  # the account-wide delay is at its cap by now
    fail_logins(client, db, "kate", burst, address=ELSEWHERE)

    # The guesser's address waits long, and longer with each failure (up to 15 minutes).
    guesser = log_in(client, "kate", address=ELSEWHERE)
    assert retry_after(guesser) > LOGIN_PER_ACCOUNT.cap.total_seconds()
    assert "Wait" in alert(guesser) and "minutes" in alert(guesser)

    # The owner, at home, waits at most the account-wide cap (a minute) ...
    owner = app.test_client()
    response = log_in(owner, "kate", address=HOME)
    assert 0 < retry_after(response) <= LOGIN_PER_ACCOUNT.cap.total_seconds()
    assert signed_in_as(owner) is None
    wait_out(db, retry_after(response))
    # ... then gets in, while the guesser still waits.
    assert log_in(owner, "kate", address=HOME).status_code == 302
    assert signed_in_as(owner) == "kate"
    assert log_in(client, "kate", address=ELSEWHERE).status_code == 429


def test_the_owners_own_typos_are_forgotten_after_a_good_login(client, db, auth):
    auth.create("kate")
    fail_logins(client, db, "kate", LOGIN_PER_ACCOUNT_AND_CLIENT.free, address=HOME)
    wait_out(db, 1)
    assert log_in(client, "kate", address=HOME).status_code == 302
    client.post("/logout")
    assert db.session.scalar(sa.select(sa.func.count(FailedAttempt.id))) == 0
    assert log_in(client, "kate", "a typo", address=HOME).status_code == 400
    assert log_in(client, "kate", address=HOME).status_code == 302


def test_many_usernames_from_one_address_are_throttled(app, client, db, auth):
    auth.create("kate")
    for number in range(LOGIN_PER_CLIENT.free + 6):
        fail_logins(client, db, f"user{number}", 1, address=ELSEWHERE)
    response = log_in(client, "someone-new", "a guess", address=ELSEWHERE)
    assert retry_after(response) >= 60
    assert "Too many failed logins from your network" in alert(response)
    assert f"Wait {math.ceil(retry_after(response) / 60)} minutes" in alert(response)
    # Other addresses are not concerned.
    assert log_in(client, "someone-new", "a guess", address=HOME).status_code == 400
    assert log_in(app.test_client(), "kate", address=HOME).status_code == 302


def test_a_limited_login_says_how_long_to_wait_for_htmx_too(client, db, auth):
    auth.create("kate")
    fail_logins(client, db, "kate", LOGIN_PER_ACCOUNT_AND_CLIENT.free + 5, address=HOME)
    response = client.post(
        "/login",
        data={"username": "kate", "password": PASSWORD},
        headers={"HX-Request": "true"},
        **at(HOME),
    )
    seconds = retry_after(response)  # 2**5 seconds after the latest failure
    assert 1 <= seconds <= 32
    assert f"Wait {seconds} second" in alert(response)


# --- login timing: the same work whether or not the account exists -------------------------


def test_login_checks_a_password_hash_whether_or_not_the_user_exists(client, auth, monkeypatch):
    user = auth.create("kate")
    checked = []
    real_check = accounts.check_password_hash

    def counting_check(stored: str, password: str) -> bool:
        checked.append(stored)
        return real_check(stored, password)

    monkeypatch.setattr(accounts, "check_password_hash", counting_check)
    assert log_in(client, "nobody-here", "some password").status_code == 400
    assert log_in(client, "kate", "some password").status_code == 400
    assert checked == [accounts.DUMMY_HASH, user.password_hash]
    # The dummy costs what a real one does: the same method and parameters.
    assert accounts.DUMMY_HASH.split("$")[0] == user.password_hash.split("$")[0]


# --- join codes -----------------------------------------------------------------------------


def logged_in(app, auth, name: str, address: str = HOME):
    auth.create(name)
    client = app.test_client()
    assert log_in(client, name, address=address).status_code == 302
    return client


@pytest.fixture
def join_code(app, auth) -> str:
    teacher = logged_in(app, auth, "teacher")
    response = teacher.post("/classes", data={"name": "Reading"})
    classroom_id = int(response.headers["Location"].rsplit("/", 1)[1])
    return _db.session.get(Classroom, classroom_id).join_code


def member_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Membership.id)))


def join_attempt(client, code: str, address: str, link: bool):
    if link:
        return client.get(f"/join/{code}", **at(address))
    return client.post("/classes/join", data={"code": code}, **at(address))


def fail_joins(client, db, times: int, address: str = ELSEWHERE, link: bool = False) -> None:
    """`times` wrong codes (in the form, or join links), each after waiting as asked."""
    for number in range(times):
        code = f"WRONG{number:03d}"
        response = join_attempt(client, code, address, link)
        if response.status_code == 429:
            wait_out(db, retry_after(response))
            response = join_attempt(client, code, address, link)
        assert response.status_code == (404 if link else 400), response.get_data(as_text=True)


def test_wrong_join_codes_are_throttled_per_user(app, db, auth, join_code):
    guesser = logged_in(app, auth, "guesser")
    fail_joins(guesser, db, 8)
    fail_joins(guesser, db, 8, link=True)  # the join link counts too
    members = member_count(db)

    # While limited, even the right code (form or link) gets the same answer: wait.
    response = guesser.post("/classes/join", data={"code": join_code}, **at(ELSEWHERE))
    seconds = retry_after(response)
    assert seconds >= 60
    assert "Too many wrong join codes" in page(response).by_id("join-error").text()
    link = guesser.get(f"/join/{join_code}", **at(ELSEWHERE))
    assert retry_after(link) >= 60
    assert "Too many wrong join codes" in link.get_data(as_text=True)
    assert member_count(db) == members

    # A classmate (another user, another address) joins at once.
    classmate = logged_in(app, auth, "classmate")
    assert classmate.post("/classes/join", data={"code": join_code}, **at(HOME)).status_code == 302
    # The guesser, after the wait, too.
    wait_out(db, seconds)
    assert (
        guesser.post("/classes/join", data={"code": join_code}, **at(ELSEWHERE)).status_code == 302
    )
    assert member_count(db) == members + 2


def test_wrong_join_codes_are_throttled_per_address(app, db, auth, join_code):
    for number in range(4):  # each stays under the per-user allowance
        fail_joins(logged_in(app, auth, f"pupil{number}"), db, 9)
    newcomer = logged_in(app, auth, "newcomer")
    response = newcomer.post("/classes/join", data={"code": join_code}, **at(ELSEWHERE))
    assert retry_after(response) > 0
    assert "from your network" in page(response).by_id("join-error").text()
    # The same person from another address is not concerned.
    assert newcomer.post("/classes/join", data={"code": join_code}, **at(HOME)).status_code == 302


def test_an_empty_join_code_is_not_a_failed_attempt(app, db, auth):
    student = logged_in(app, auth, "student")
    for _ in range(20):
        assert student.post("/classes/join", data={"code": "  "}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(FailedAttempt.id))) == 0


# --- the migration --------------------------------------------------------------------------


def check_accounts_migration(app) -> None:
    """Upgrade through this change with existing rows, and back: nothing is lost.

    Run inside `app`'s context on an empty database (SQLite here, PostgreSQL in
    test_postgres.py).
    """
    upgrade(revision=f"{REVISION}-1")
    with _db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO users (id, username, password_hash, created_at) VALUES "
                "(1, 'Kate', 'h1', '2024-01-01'), (2, 'kate', 'h2', '2024-01-01'), "
                "(3, 'bob', 'h3', '2024-01-01')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO classrooms (id, name, join_code, created_at) "
                "VALUES (1, 'c', 'ABCDEFGH', '2024-01-01')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO memberships (classroom_id, user_id, role, joined_at) VALUES "
                "(1, 1, 'instructor', '2024-01-01'), (1, 2, 'student', '2024-01-01'), "
                "(1, 3, 'student', '2024-01-01')"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO login_attempts (username, remote_addr, at) "
                "VALUES ('KATE', '192.0.2.1', '2024-01-01')"
            )
        )

    def rows(sql: str) -> list[tuple]:
        with _db.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(sql))]

    upgrade(revision=REVISION)
    assert rows("SELECT id, username, username_key FROM users ORDER BY id") == [
        (1, "Kate", "kate"),
        (2, "kate", "kate#2"),  # the old rule let both in; both keep their rows
        (3, "bob", "bob"),
    ]
    assert rows("SELECT count(*) FROM memberships") == [(3,)]
    assert rows("SELECT kind, subject, client FROM failed_attempts") == [
        ("login", "kate", "192.0.2.1")
    ]

    downgrade(revision=f"{REVISION}-1")
    assert rows("SELECT id, username FROM users ORDER BY id") == [
        (1, "Kate"),
        (2, "kate"),
        (3, "bob"),
    ]
    assert rows("SELECT count(*) FROM memberships") == [(3,)]
    assert rows("SELECT username, remote_addr FROM login_attempts") == [("kate", "192.0.2.1")]
    upgrade(revision=REVISION)
    assert rows("SELECT count(*) FROM memberships") == [(3,)]


def test_the_accounts_migration_keeps_every_row_on_sqlite(tmp_path):
    app = create_app(make_config(tmp_path))
    with app.app_context():
        check_accounts_migration(app)
        _db.engine.dispose()
