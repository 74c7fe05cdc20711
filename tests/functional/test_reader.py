"""The library and the reader page: metadata, body, spans, structure, htmx partials, 404."""

from __future__ import annotations

import re

from tests.conftest import HTMX, SEED_SLUG
from tests.functional.helpers import current_version, page, parse, vary

SEED_TITLE = "Russian Military Needed in Syria Long Term, Assad Says"
SOURCE_URL = (
    "https://www.themoscowtimes.com/2018/07/27/"
    "russian-military-needed-in-syria-long-term-assad-says-a62363"
)


# --- library -----------------------------------------------------------------------------------


def test_library_lists_the_seed_article_with_its_metadata(client):
    response = client.get("/")
    assert response.status_code == 200
    root = page(response)
    links = [a for a in root.find_all("a", class_="article-link") if a.text() == SEED_TITLE]
    assert len(links) == 1
    assert links[0].get("href") == f"/articles/{SEED_SLUG}"
    item = links[0].parent
    meta = item.find("p", class_="meta").text()
    assert "Reuters" in meta and "July 27, 2018" in meta
    assert item.find("time").get("datetime") == "2018-07-27"


def test_library_full_page_and_htmx_partial(client):
    full = client.get("/")
    partial = client.get("/", headers=HTMX)
    assert full.status_code == partial.status_code == 200
    full_html = full.get_data(as_text=True)
    partial_html = partial.get_data(as_text=True)
    assert full_html.lstrip().lower().startswith("<!doctype html>")
    assert "<html" not in partial_html and "<head" not in partial_html
    assert SEED_TITLE in partial_html
    assert "hx-request" in vary(full) and "hx-request" in vary(partial)


# --- the reader -------------------------------------------------------------------------------


def test_article_shows_title_byline_date_and_original_link(client):
    response = client.get(f"/articles/{SEED_SLUG}")
    assert response.status_code == 200
    root = page(response)
    assert root.find("title").text().startswith(SEED_TITLE)
    article = root.find("article", class_="article")
    assert article.find("h1").text() == SEED_TITLE
    assert article.find("span", class_="byline").text() == "By Reuters"
    time = article.find("time")
    assert time.text() == "July 27, 2018" and time.get("datetime") == "2018-07-27"
    source = article.find("a", class_="source-link")
    assert source.get("href") == SOURCE_URL
    assert "noopener" in source.get("rel")


def test_article_body_has_no_raw_markdown_and_no_metadata(client, db):
    root = page(client.get(f"/articles/{SEED_SLUG}"))
    body = root.by_id("article-body")
    text = body.text()
    for leftover in ("**", "[Reuters](#)", "](#)", "\\(", "\\)", "<https://", "Original url"):
        assert leftover not in text, leftover
    assert (
        "Related article: The Growing Risks of Russia's Military Intervention in Syria (Op-Ed)"
        in (text)
    )
    # The metadata lives in the header, not in the body.
    assert SEED_TITLE not in text and "July 27, 2018" not in text
    # The bold caption is bold; links to "#" have no target that would navigate.
    assert body.find("strong").text() == "Bashar al-Assad / Kremlin.ru"
    links = body.find_all("a")
    assert links, "the seed's related-article link should survive as a link"
    for link in links:
        assert link.get("href") in (None, "") or not link.get("href").startswith("#")
    # The stored canonical text matches what the page shows.
    version = current_version(db)
    assert "**" not in version.text and "\\(" not in version.text


def test_blocks_have_stable_ids_and_spans_carry_code_point_offsets(client, db):
    version = current_version(db)
    root = page(client.get(f"/articles/{SEED_SLUG}"))
    body = root.by_id("article-body")
    assert body.get("data-version") == str(version.id)
    assert body.get("data-text-length") == str(len(version.text))
    blocks = [e for e in body.iter() if re.fullmatch(r"block-\d+", e.id or "")]
    assert [b.id for b in blocks] == [f"block-{n}" for n in range(len(blocks))]
    assert len(blocks) == 12
    for block in blocks:
        start = int(block.get("data-start"))
        assert version.text[start : start + len(block.text())] == block.text()
    spans = body.find_all("span", data_o=True)
    assert len(spans) > len(blocks)  # sentence by sentence, not one per block
    for piece in spans:
        offset = int(piece.get("data-o"))
        assert version.text[offset : offset + len(piece.text())] == piece.text()
    # Every character of the canonical text outside the block separators is in a span.
    covered = sum(len(s.text()) for s in spans)
    assert covered == len(version.text) - 2 * (len(blocks) - 1)


def test_semantic_structure_for_a_logged_in_reader(client, auth):
    auth.login("alice")
    root = page(client.get(f"/articles/{SEED_SLUG}"))
    main = root.find("main")
    article = main.find("article", class_="article")
    assert article is not None, "the article must sit inside <main>"
    assert main.find("aside") is not None and main.find("aside").by_id("cards") is not None
    toolbar = root.find(None, role="toolbar")
    assert toolbar is not None
    buttons = {b.text().strip() for b in toolbar.find_all("button")}
    assert {"Highlight", "Comment"} <= buttons
    # The toolbar sits in the form that posts to the create route (a <form> may not take the
    # toolbar role) and carries the version and the selection fields.
    form = root.by_id("annotate-form")
    assert form.tag == "form" and form.get("role") is None
    assert toolbar.parent is form
    assert form.get("hx-post") == f"/articles/{SEED_SLUG}/annotations"
    names = {i.get("name") for i in toolbar.find_all("input")}
    assert {"start", "end", "exact", "version", "colour"} <= names
    # Nothing but article text inside the article body.
    body = root.by_id("article-body")
    for tag in ("button", "form", "input", "textarea", "aside", "script"):
        assert body.find(tag) is None, tag


def test_anonymous_reader_gets_no_annotate_buttons_but_a_login_link(client):
    root = page(client.get(f"/articles/{SEED_SLUG}"))
    toolbar = root.find(None, role="toolbar")
    assert toolbar is not None
    assert not toolbar.find_all("button")
    login = toolbar.find("a")
    assert login.get("href").startswith("/login?next=")
    assert "Log in" in root.find("aside").text()


def test_article_full_page_and_htmx_partial(client):
    full = client.get(f"/articles/{SEED_SLUG}")
    partial = client.get(f"/articles/{SEED_SLUG}", headers=HTMX)
    assert full.status_code == partial.status_code == 200
    assert "<html" in full.get_data(as_text=True)
    html = partial.get_data(as_text=True)
    assert "<html" not in html and "<body" not in html
    root = parse(html)
    assert root.by_id("article-body") is not None and root.by_id("block-0") is not None
    assert "hx-request" in vary(full) and "hx-request" in vary(partial)


def test_security_headers_on_the_reader(client):
    response = client.get(f"/articles/{SEED_SLUG}")
    csp = response.headers["Content-Security-Policy"]
    script_src = next(p for p in csp.split(";") if p.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_article_is_a_404_with_a_clear_message(client):
    response = client.get("/articles/no-such-article")
    assert response.status_code == 404
    root = page(response)
    assert "There is no article at /articles/no-such-article." in root.find("main").text()
    assert "<html" in response.get_data(as_text=True)


def test_unknown_article_for_htmx_is_a_flash_fragment(client):
    response = client.get("/articles/no-such-article", headers=HTMX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#flash"
    html = response.get_data(as_text=True)
    assert "<html" not in html
    assert "There is no article at /articles/no-such-article." in html
    assert 'role="alert"' in html
