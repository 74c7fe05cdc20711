"""Sidebar cards load lazily, a page at a time, in document order."""

from __future__ import annotations

import re

import pytest

from tests.conftest import HTMX, SEED_SLUG
from webapp.services.annotations import CARDS_PER_PAGE, create_annotation

CARD_ID = re.compile(r'<article class="card[^"]*" id="annotation-(\d+)"')
MORE = re.compile(r'class="cards-more" hx-get="([^"]+)"')


@pytest.fixture
def many_notes(auth, db, seed_document):
    user = auth.login("heavy")
    version = seed_document.current_version
    words = [m.span() for m in re.finditer(r"\w+", version.text)]
    ids = []
    for start, end in words[: CARDS_PER_PAGE + 15]:
        annotation = create_annotation(
            db.session,
            user,
            version,
            {"start": str(start), "end": str(end), "exact": version.text[start:end]},
        )
        ids.append(annotation.id)
    db.session.commit()
    return ids


def test_page_holds_every_mark_but_only_the_first_cards(client, many_notes):
    page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(page)] == many_notes[:CARDS_PER_PAGE]
    for annotation_id in many_notes:
        assert f'data-annotations="{annotation_id}"' in page
    assert MORE.search(page)


def test_next_page_continues_in_order_and_ends(client, many_notes):
    page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    url = MORE.search(page).group(1).replace("&amp;", "&")
    response = client.get(url, headers=HTMX)
    assert response.status_code == 200
    rest = response.get_data(as_text=True)
    assert [int(i) for i in CARD_ID.findall(rest)] == many_notes[CARDS_PER_PAGE:]
    assert not MORE.search(rest)


def test_through_loads_up_to_a_given_card(client, many_notes):
    first_page = client.get(f"/articles/{SEED_SLUG}").get_data(as_text=True)
    url = MORE.search(first_page).group(1).replace("&amp;", "&")
    response = client.get(f"{url}&through={many_notes[-1]}", headers=HTMX)
    assert [int(i) for i in CARD_ID.findall(response.get_data(as_text=True))][-1] == many_notes[-1]


def test_bad_cursor_is_a_clear_400(client, many_notes):
    response = client.get(f"/articles/{SEED_SLUG}/cards?after=nonsense", headers=HTMX)
    assert response.status_code == 400
    assert "Bad position" in response.get_data(as_text=True)


def test_cards_without_htmx_redirect_to_the_article(client, many_notes):
    response = client.get(f"/articles/{SEED_SLUG}/cards?after=0-1-1")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/articles/{SEED_SLUG}")
