"""Sidebar cards load lazily, a page at a time (offset paging), in document order."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import HTMX, SEED_SLUG
from webapp.models import Annotation
from webapp.services.annotations import CARDS_PER_PAGE, create_annotation

CARD_ID = re.compile(r'<article class="card[^"]*"\s+id="annotation-(\d+)"')
MORE = re.compile(r'class="cards-more" hx-get="([^"]+)"')


@pytest.fixture
def many_notes(auth, db, seed_document):
    user = auth.login("heavy")
    version = seed_document.current_version
    words = [m.span() for m in re.finditer(r"\w+", version.text)]
    ids = []
    for start, end in words[: CARDS_PER_PAGE + CARDS_PER_PAGE // 2]:  # a page and a half
        annotation = create_annotation(
            db.session,
            user,
            version,
            {"start": str(start), "end": str(end), "exact": version.text[start:end]},
        )
        ids.append(annotation.id)
    db.session.commit()
    return ids


def more_url(html: str) -> str:
    return MORE.search(html).group(1).replace("&amp;", "&")


def test_page_holds_every_mark_but_only_the_first_cards(client, db, many_notes):
    page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(page)] == many_notes[:CARDS_PER_PAGE]
    for annotation_id in many_notes:
        start = db.session.get(Annotation, annotation_id).start
        assert f'<mark data-at="{start}" class="hl hl-yellow depth-1">' in page
    url = urlsplit(more_url(page))
    assert url.path == f"/articles/{SEED_SLUG}/cards"
    query = parse_qs(url.query)
    assert query["offset"] == [str(CARDS_PER_PAGE)] and query["context"] == ["private"]
    assert "after" not in query  # no more cursor paging


def test_next_page_continues_in_order_and_ends(client, many_notes):
    page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    response = client.get(more_url(page), headers=HTMX)
    assert response.status_code == 200
    rest = response.get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(rest)] == many_notes[CARDS_PER_PAGE:]
    assert not MORE.search(rest)


def test_through_loads_up_to_a_given_card(client, many_notes):
    response = client.get(f"/articles/{SEED_SLUG}/cards?through={many_notes[-1]}", headers=HTMX)
    html = response.get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(html)] == many_notes
    assert not MORE.search(html)


def test_through_a_card_on_the_first_page_loads_one_page(client, many_notes):
    response = client.get(f"/articles/{SEED_SLUG}/cards?through={many_notes[3]}", headers=HTMX)
    html = response.get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(html)] == many_notes[:CARDS_PER_PAGE]
    assert f"offset={CARDS_PER_PAGE}" in more_url(html)


def test_an_offset_past_the_end_is_an_empty_page(client, many_notes):
    response = client.get(f"/articles/{SEED_SLUG}/cards?offset=1000", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert CARD_ID.findall(html) == [] and not MORE.search(html)


@pytest.mark.parametrize("offset", ["nonsense", "-1", "0-1-1", "1" * 12])
def test_bad_offset_is_a_clear_400(client, many_notes, offset):
    response = client.get(f"/articles/{SEED_SLUG}/cards?offset={offset}", headers=HTMX)
    assert response.status_code == 400
    assert "Bad position" in response.get_data(as_text=True)


def test_cards_without_htmx_redirect_to_the_article(client, many_notes):
    response = client.get(f"/articles/{SEED_SLUG}/cards?offset={CARDS_PER_PAGE}")
    assert response.status_code == 302
    url = urlsplit(response.headers["Location"])
    assert url.path == f"/articles/{SEED_SLUG}"
    assert parse_qs(url.query) == {"offset": [str(CARDS_PER_PAGE)]}
    rest = client.get(response.headers["Location"]).get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(rest)] == many_notes[CARDS_PER_PAGE:]
