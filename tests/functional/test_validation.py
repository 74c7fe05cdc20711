"""Bad input: every case is a 4xx with a clear message (in #flash for htmx), stores nothing,
and is never a 500."""

from __future__ import annotations

import pytest

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import (
    annotation_count,
    create,
    current_version,
    fetch_annotation,
    latest_annotation,
    page,
    parse,
    select,
)

PHRASE = "Russian forces"


@pytest.fixture
def text(db) -> str:
    return current_version(db).text


@pytest.fixture
def good(text) -> dict[str, str]:
    return select(text, PHRASE)


def assert_refused(response, status: int, message: str, htmx: bool) -> None:
    html = response.get_data(as_text=True)
    assert response.status_code == status, html
    assert message in parse(html).text(), html
    if htmx:
        assert response.headers.get("HX-Retarget") == "#flash"
        assert "<html" not in html
        alert = parse(html).find("p", role="alert")
        assert alert is not None and message in alert.text()
    else:
        assert "HX-Retarget" not in response.headers
        root = page(response)
        assert message in root.find("main").text()
    assert "HX-Trigger" not in response.headers


def bad_selections(text: str, good: dict[str, str]) -> list[tuple[str, dict, str]]:
    start, end = int(good["start"]), int(good["end"])
    size = len(text)

    def without(name: str) -> dict[str, str]:
        return {k: v for k, v in good.items() if k != name}

    return [
        (
            "past the end",
            {"start": str(size - 2), "end": str(size + 5), "exact": text[size - 2 :] + "xxxxx"},
            f"past the end of the article ({size} characters)",
        ),
        (
            "huge",
            {"start": "0", "end": str(10**30), "exact": "B"},
            "past the end of the article",
        ),
        ("negative start", {**good, "start": "-1"}, "must not be negative"),
        ("negative end", {"start": "-5", "end": "-1", "exact": "x"}, "must not be negative"),
        ("start == end", {"start": str(start), "end": str(start), "exact": ""}, "is empty"),
        ("start > end", {**good, "start": str(end), "end": str(start)}, "is empty"),
        ("non-numeric start", {**good, "start": "abc"}, "start offset must be a whole number"),
        ("decimal end", {**good, "end": "12.5"}, "end offset must be a whole number"),
        ("too many digits", {**good, "end": "9" * 5000}, "end offset must be a whole number"),
        ("missing start", without("start"), "start offset is missing"),
        ("blank start", {**good, "start": " "}, "start offset is missing"),
        ("missing end", without("end"), "end offset is missing"),
        ("missing exact", without("exact"), "The selected text (exact) is missing."),
        ("wrong quote", {**good, "exact": "Russian forcez"}, "does not match the article"),
        (
            "quote moved",
            {"start": str(start + 1), "end": str(end + 1), "exact": PHRASE},
            "does not match the article",
        ),
        (
            "only white space",
            {"start": str(text.index("\n\n")), "end": str(text.index("\n\n") + 2), "exact": "\n\n"},
            "only white space",
        ),
    ]


CASES = [
    "past the end",
    "huge",
    "negative start",
    "negative end",
    "start == end",
    "start > end",
    "non-numeric start",
    "decimal end",
    "too many digits",
    "missing start",
    "blank start",
    "missing end",
    "missing exact",
    "wrong quote",
    "quote moved",
    "only white space",
]


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize("case", CASES)
def test_bad_selection_is_refused(client, auth, db, text, good, case, htmx):
    auth.login("alice")
    [(fields, message)] = [(f, m) for name, f, m in bad_selections(text, good) if name == case]
    before = annotation_count(db)
    response = create(client, fields, htmx=htmx)
    assert_refused(response, 422, message, htmx)
    assert annotation_count(db) == before


def test_cases_cover_every_bad_selection(text, good):
    assert [name for name, _, _ in bad_selections(text, good)] == CASES


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    "extra, message",
    [
        ({"intent": "comment", "body": ""}, "The comment is empty"),
        ({"intent": "comment", "body": " \n\t "}, "The comment is empty"),
        ({"intent": "comment"}, "The comment is empty"),
        ({"body": "x" * 10_001}, "The comment is 10,001 characters long; the limit is 10,000."),
        ({"intent": "comment", "body": "y" * 20_000}, "the limit is 10,000"),
        (
            {"colour": "red"},
            "Unknown colour 'red': choose one of yellow, green, blue, pink, purple.",
        ),
        ({"colour": "<b>"}, "Unknown colour"),
        ({"version": "999"}, "The article has been updated since this page was loaded"),
        ({"version": "abc"}, "The article has been updated since this page was loaded"),
    ],
    ids=[
        "empty comment",
        "blank comment",
        "no comment field",
        "long comment",
        "very long comment",
        "unknown colour",
        "markup colour",
        "stale version",
        "garbage version",
    ],
)
def test_bad_fields_are_refused(client, auth, db, good, extra, message, htmx):
    auth.login("alice")
    before = annotation_count(db)
    response = create(client, good, htmx=htmx, **extra)
    assert_refused(response, 422, message, htmx)
    assert annotation_count(db) == before


def test_unknown_colour_is_escaped_in_the_message(client, auth, good):
    auth.login("alice")
    response = create(client, good, colour="<script>")
    assert "<script>" not in response.get_data(as_text=True)


def test_limits_are_inclusive(client, auth, db, good):
    """The boundaries themselves are accepted: a 10,000-character comment and the current
    version id."""
    auth.login("alice")
    version = current_version(db)
    response = create(
        client, good, intent="comment", body="z" * 10_000, version=str(version.id), colour="Blue"
    )
    assert response.status_code == 200
    annotation = latest_annotation(db)
    assert len(annotation.body_markdown) == 10_000 and annotation.colour == "blue"


def test_selection_at_the_very_start_and_end_is_accepted(client, auth, db, text):
    auth.login("alice")
    assert create(client, {"start": "0", "end": "6", "exact": text[:6]}).status_code == 200
    size = len(text)
    tail = {"start": str(size - 7), "end": str(size), "exact": text[-7:]}
    assert create(client, tail).status_code == 200


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_unknown_article_is_refused(client, auth, db, good, htmx):
    auth.login("alice")
    before = annotation_count(db)
    response = create(client, good, slug="no-such-article", htmx=htmx)
    assert_refused(response, 404, "There is no article at /articles/no-such-article.", htmx)
    assert annotation_count(db) == before


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_anonymous_user_cannot_save(client, db, good, htmx):
    before = annotation_count(db)
    response = create(client, good, htmx=htmx)
    assert_refused(response, 401, "Log in to save highlights and comments.", htmx)
    assert annotation_count(db) == before


def test_anonymous_plain_get_of_an_edit_page_redirects_to_login(client, auth, db, good):
    auth.login("alice")
    create(client, good)
    annotation = latest_annotation(db)
    auth.logout()
    response = client.get(f"/annotations/{annotation.id}/edit")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/login?next=/annotations/{annotation.id}/edit")


def test_anonymous_htmx_get_of_an_edit_form_is_401(client, auth, db, good):
    auth.login("alice")
    create(client, good)
    annotation = latest_annotation(db)
    auth.logout()
    response = client.get(f"/annotations/{annotation.id}/edit", headers=HTMX)
    assert_refused(response, 401, "Log in to save highlights and comments.", True)


@pytest.mark.parametrize("action", ["edit", "delete", "restore"])
def test_anonymous_writes_to_an_annotation_are_401(client, auth, db, good, action):
    auth.login("alice")
    create(client, good, intent="comment", body="mine")
    annotation = latest_annotation(db)
    auth.logout()
    response = client.post(f"/annotations/{annotation.id}/{action}", data={"body": "x"})
    assert response.status_code == 401
    stored = fetch_annotation(db, annotation.id)
    assert stored.body_markdown == "mine" and stored.deleted_at is None


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
@pytest.mark.parametrize(
    "data, message",
    [
        ({"body": "w" * 10_001}, "The comment is 10,001 characters long"),
        ({"colour": "octarine"}, "Unknown colour 'octarine'"),
    ],
    ids=["long comment", "unknown colour"],
)
def test_bad_edit_is_refused_and_changes_nothing(client, auth, db, good, data, message, htmx):
    auth.login("alice")
    create(client, good, intent="comment", body="original", colour="green")
    annotation = latest_annotation(db)
    response = client.post(
        f"/annotations/{annotation.id}/edit", data=data, headers=HTMX if htmx else {}
    )
    assert_refused(response, 422, message, htmx)
    stored = fetch_annotation(db, annotation.id)
    assert (stored.body_markdown, stored.colour) == ("original", "green")
    assert stored.updated_at == stored.created_at


def test_oversized_request_is_refused(client, auth, db, good):
    auth.login("alice")
    before = annotation_count(db)
    response = create(client, good, body="x" * (1024 * 1024 + 10))
    assert response.status_code == 413
    assert response.headers.get("HX-Retarget") == "#flash"
    assert annotation_count(db) == before


@pytest.mark.parametrize("path", ["/annotations/abc", "/annotations/-1", "/annotations/1.5"])
def test_malformed_annotation_ids_are_404(client, auth, path):
    auth.login("alice")
    assert client.get(path).status_code == 404
    assert client.post(f"{path}/delete").status_code in (404, 405)


@pytest.mark.parametrize(
    "method, suffix",
    [("get", ""), ("get", "/edit"), ("post", "/edit"), ("post", "/delete"), ("post", "/restore")],
)
def test_annotation_id_too_large_for_the_database_is_404(app, client, auth, method, suffix):
    auth.login("alice")
    app.config["PROPAGATE_EXCEPTIONS"] = False  # see the response a browser would get
    response = getattr(client, method)(f"/annotations/99999999999999999999{suffix}", headers=HTMX)
    assert response.status_code == 404, response.status_code


def test_error_responses_vary_on_hx_request(client, auth, good):
    auth.login("alice")
    response = create(client, {**good, "exact": "nope"})
    assert response.status_code == 422
    assert "hx-request" in response.headers["Vary"].lower()


def test_an_error_does_not_break_the_next_request(client, auth, db, good):
    """A refused write rolls back cleanly: the next good one is stored."""
    auth.login("alice")
    before = annotation_count(db)
    assert create(client, {**good, "start": "x"}).status_code == 422
    assert create(client, good).status_code == 200
    assert annotation_count(db) == before + 1
    assert client.get(f"/articles/{SEED_SLUG}").status_code == 200


def test_crlf_line_breaks_count_as_one_character(client, auth, db, good):
    auth.login("alice")
    create(client, good)
    annotation = latest_annotation(db)
    body = ("a" * 99 + "\r\n") * 99 + "a" * 100  # 10,000 characters as the textarea counts them
    assert len(body.replace("\r\n", "\n")) == 10_000
    response = client.post(f"/annotations/{annotation.id}/edit", data={"body": body})
    assert response.status_code == 302, response.status_code
    assert fetch_annotation(db, annotation.id).body_markdown == body.replace("\r\n", "\n")
