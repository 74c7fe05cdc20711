"""Every page's htmx partial renders on its own, for people with data, and is the same
HTML as that part of the full page.

The pages are found, not listed: every GET route of the app is requested (its URL
arguments filled from the data below), and every view that reaches
webapp.htmx.render_view must have been seen rendering its block, so a new page is covered
(or this test says what to add) without anyone remembering to extend a list.
"""

# The fixtures come from test_discussion; using them as parameters is how pytest works.
# ruff: noqa: F811

from __future__ import annotations

import inspect
import re
import types
from dataclasses import dataclass, field

import pytest
from flask import request, template_rendered
from jinja2_fragments.flask import template_block_rendered

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.article_helpers import owned_article
from tests.functional.test_discussion import (  # noqa: F401 - fixtures
    as_,
    body_of,
    class_note,
    note,
    reply,
    room,
    text,
)
from webapp import htmx
from webapp.models import Reply
from webapp.services.classes import assign
from webapp.services.groups import create_group


def reaches_render_view(function, seen: set | None = None) -> bool:
    """Whether `function` calls webapp.htmx.render_view, itself or through functions of
    the package it calls (found by name in its globals)."""
    seen = set() if seen is None else seen
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None or function in seen:
        return False
    seen.add(function)
    names, codes = set(), [code]
    while codes:  # the function's own code and the code of its comprehensions/closures
        current = codes.pop()
        names.update(current.co_names)
        codes += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    for name in names:
        target = function.__globals__.get(name)
        if target is htmx.render_view:
            return True
        if (
            isinstance(target, types.FunctionType)
            and target.__module__.startswith("webapp")
            and reaches_render_view(target, seen)
        ):
            return True
    return False


def render_view_endpoints(app) -> set[str]:
    return {
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and reaches_render_view(view)
    }


def test_the_scan_finds_the_known_pages(app):
    # A check on the scan itself: views calling render_view directly and through a helper.
    found = render_view_endpoints(app)
    assert {"reader.library", "reader.article", "classes.index", "classes.show"} <= found
    assert {"classes.create", "reports.participation"} <= found
    assert "auth.logout" not in found and "reader.changes" not in found


@dataclass
class Rendered:
    """What one request rendered: full templates, and (template, block) pairs."""

    templates: list[str] = field(default_factory=list)
    blocks: list[tuple[str, str, str]] = field(default_factory=list)  # endpoint, template, block


@pytest.fixture
def rendered(app):
    seen = Rendered()

    def on_template(sender, template, context, **extra):
        seen.templates.append(template.name)

    def on_block(sender, template_name, block_name, context, **extra):
        seen.blocks.append((request.endpoint, template_name, block_name))

    template_rendered.connect(on_template, app)
    template_block_rendered.connect(on_block, app)
    yield seen
    template_rendered.disconnect(on_template, app)
    template_block_rendered.disconnect(on_block, app)


TOKEN = re.compile(r'(name="csrf_token" value="|"X-CSRFToken": ")[^"]*')
# A password reset link is new on every request that makes one.
RESET_LINK = re.compile(r"(/reset/)[A-Za-z0-9_-]+")


def normalised(html: str) -> str:
    """HTML with the CSRF tokens (signed with the time, so they differ) and new reset
    links blanked out."""
    return RESET_LINK.sub(r"\1…", TOKEN.sub(r"\1…", html)).strip()


@pytest.fixture
def data(as_, db, text, room, class_note):
    """A class with an assigned article, class notes with a reply, a private note."""
    reply(as_("ben"), class_note, "Because of the base.")
    note(as_("teacher"), db, text, "Middle East", room.key, body="Note the *region*.")
    note(as_("ann"), db, text, "Russian forces were needed", "private", body="Mine only.")
    group = create_group(db.session, room.classroom, "Group 1")
    db.session.commit()
    return {
        "slug": SEED_SLUG,
        "classroom_id": room.classroom.id,
        "annotation_id": class_note.id,
        "reply_id": db.session.query(Reply).one().id,
        "code": room.classroom.join_code,
        "digest": "0" * 64,  # no such image: a 404, never a 5xx
        "token": "no-such-token",  # share links, unsubscribe and reset links alike
        "notification_id": 1,
        "spot_at": class_note.start,
        "group_id": group.id,
        "assignment_id": room.classroom.assignments[0].id,
        "user_id": room.ann.id,
    }


def get_urls(app, values: dict) -> list[tuple[str, str]]:
    """Every GET route but static files, as (endpoint, URL) with the arguments filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        missing = rule.arguments - values.keys()
        assert not missing, f"{rule.rule}: add a value for {missing} to the data fixture"
        urls.append((rule.endpoint, rule.build({k: values[k] for k in rule.arguments})[1]))
    return urls


def check_fragment(client, rendered: Rendered, method: str, url: str, **data) -> None:
    """The htmx answer is never a 5xx; when it is a render_view block, that block is the
    same HTML as in the full page the same request without htmx gets (after a redirect:
    a partial-only URL sends browsers to the page that holds it)."""
    rendered.blocks.clear()
    partial = client.open(url, method=method, data=data, headers=HTMX)
    assert partial.status_code < 500, (url, body_of(partial))
    if not rendered.blocks:
        return
    ((_, template, block),) = rendered.blocks
    rendered.templates.clear()
    full = client.open(url, method=method, data=data, follow_redirects=True)
    if not full.history:
        assert full.status_code == partial.status_code, (url, body_of(full))
        assert template in rendered.templates, (url, rendered.templates)
    fragment = normalised(body_of(partial))
    assert "<html" not in fragment, url
    assert fragment in normalised(body_of(full)), (url, block)


def error_rerenders(room, document_id: int, group_id: int) -> list[tuple[str, str, dict]]:
    """Writes that answer bad input by rendering their page again, with the message."""
    classroom = f"/classes/{room.classroom.id}"
    bad_due = {"document_id": str(document_id), "due": "soon"}
    assignment = f"{classroom}/assignments/{room.classroom.assignments[0].id}"
    return [
        ("classes.create", "/classes", {"name": ""}),
        ("classes.join", "/classes/join", {"code": "NOSUCHCODE"}),
        ("classes.assign_article", f"{classroom}/assignments", {"document_id": ""}),
        ("classes.assign_article", f"{classroom}/assignments", bad_due),
        ("classes.remove", f"{classroom}/members/{room.teacher.id}/remove", {}),
        ("classes.purposes", f"{classroom}/purposes", {"purpose-yellow": "x" * 99}),
        ("account.change_email", "/account/email", {"email": "x@y.org", "password": "wrong"}),
        ("account.change_password", "/account/password", {"current_password": "wrong"}),
        ("account.delete_confirm", "/account/delete", {"notes": ""}),
        ("account.issue_reset_link", f"{classroom}/members/{room.ann.id}/reset-link", {}),
        ("account.reset_confirm", "/reset/not-a-valid-token", {"new_password": "x"}),
        ("account.forgot_send", "/forgot", {"login": "ann"}),
        ("notifications.unsubscribe_confirm", "/unsubscribe/not-a-valid-token", {}),
        ("classes.set_role", f"{classroom}/members/{room.teacher.id}/role", {"role": "student"}),
        ("classes.rename", f"{classroom}/rename", {"name": ""}),
        ("classes.leave", f"{classroom}/leave", {}),  # the only instructor: refused
        ("classes.create_group", f"{classroom}/groups", {"name": ""}),
        ("classes.random_groups", f"{classroom}/groups/random", {"size": "1"}),
        ("classes.rename_group", f"{classroom}/groups/{group_id}/rename", {"name": ""}),
        ("classes.place", f"{classroom}/groups/place", {"user_id": ""}),
        ("reports.set_time_zone", f"{classroom}/time-zone", {"time_zone": "Nowhere/Town"}),
        ("reports.rubric", f"{assignment}/rubric", {"cap": "lots"}),
        ("reports.override", f"{assignment}/students/{room.ann.id}/score", {"points": "x"}),
        ("reports.extension", f"{assignment}/students/{room.ann.id}/extension", {"due": "soon"}),
    ]


def owner_error_rerenders(room, slug: str) -> list[tuple[str, str, dict]]:
    """The article owner's forms answering bad input with their page again."""
    article = f"/articles/{slug}"
    return [
        ("articles.create", "/articles/new", {"way": "text", "text": ""}),
        ("articles.save", f"{article}/edit", {"way": "edit", "text": ""}),
        ("articles.assign_to_class", f"{article}/assign", {"classroom_id": ""}),
        ("articles.delete", f"{article}/delete", {}),  # ann has notes on it: refused
        ("articles.share", f"{article}/share", {"on": "1"}),  # archived first: refused
    ]


def test_every_page_renders_its_htmx_block_on_its_own(
    app, client, as_, db, room, seed_document, data, rendered
):
    gets = get_urls(app, data)
    covered = set()
    for visitor in [as_(name) for name in ("teacher", "ann", "ben", "carl")] + [client]:
        for _, url in gets:
            check_fragment(visitor, rendered, "GET", url)
            covered |= {endpoint for endpoint, _, _ in rendered.blocks}
        # The notes at a spot need the spot's offset.
        spot = f"/articles/{SEED_SLUG}/spot?at={data['spot_at']}&context={room.key}"
        check_fragment(visitor, rendered, "GET", spot)
        covered |= {endpoint for endpoint, _, _ in rendered.blocks}
    teacher = as_("teacher")
    # The notes at a spot need a place in the text.
    check_fragment(teacher, rendered, "GET", f"/articles/{SEED_SLUG}/spot?at=0")
    covered |= {endpoint for endpoint, _, _ in rendered.blocks}
    for endpoint, url, form in error_rerenders(room, seed_document.id, data["group_id"]):
        check_fragment(teacher, rendered, "POST", url, **form)
        assert [e for e, _, _ in rendered.blocks] == [endpoint], url
        covered.add(endpoint)

    # An article of the teacher's, assigned to the class and annotated by a student: its
    # owner's pages, then its owner's forms with bad input.
    owned = owned_article(db, room.teacher)
    assign(db.session, room.classroom, owned, None)
    db.session.commit()
    version = owned.current_version
    start = version.text.index("Otters")
    as_("ann").post(
        f"/articles/{owned.slug}/annotations",
        data={
            "start": start,
            "end": start + 6,
            "exact": "Otters",
            "body": "Mine.",
            "audience": room.key,
            "version": version.id,
        },
    )
    for endpoint, url in get_urls(app, {**data, "slug": owned.slug}):
        if endpoint.startswith("articles."):
            check_fragment(teacher, rendered, "GET", url)
            covered |= {endpoint for endpoint, _, _ in rendered.blocks}
    for endpoint, url, form in owner_error_rerenders(room, owned.slug):
        if endpoint == "articles.share":
            teacher.post(f"/articles/{owned.slug}/archive")
        check_fragment(teacher, rendered, "POST", url, **form)
        assert endpoint in [e for e, _, _ in rendered.blocks], (url, rendered.blocks)
        covered.add(endpoint)
    missing = render_view_endpoints(app) - covered
    assert not missing, f"no request here rendered the htmx block of {missing}: add one"


def test_the_class_pages_render_for_htmx_with_an_assigned_article(as_, room, data):
    # The report's case: `title_of` was undefined when the block was rendered alone.
    for url in ("/classes", f"/classes/{room.classroom.id}"):
        response = as_("teacher").get(url, headers=HTMX)
        assert response.status_code == 200, body_of(response)
        assert "Russian Military Needed in Syria" in body_of(response)
        assert "<html" not in body_of(response)
