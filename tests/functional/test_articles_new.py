"""Adding an article in the browser: the form, paste, upload, web address, preview (nothing
published), back, publish; and every kind of bad input answered in the form with a 4xx.

The web addresses are served by a real HTTP server on loopback (tests/site.py), which the
fetcher may reach because the tests allow 127.0.0.1 (FETCH_ALLOWED_HOSTS)."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import HTMX
from tests.functional.helpers import page, vary
from tests.samples import ARTICLE_HTML, docx, html_page, pdf, png, scanned_pdf, wrap
from tests.site import LocalSite, endless, slow
from webapp.models import ArticleDraft, Document, DocumentVersion, utcnow

PASTED = """# A Pasted Piece on Tides

By Jo Smith

March 3, 2024

The moon pulls the sea twice a day, and the shore answers with tides.

Fishermen have always read the tides before they read the weather.

Original url:

<https://example.org/tides>
"""
TITLE = "A Pasted Piece on Tides"
PLAIN = "The sea is calm today.\n\nTomorrow the wind will turn and the boats stay home."


@pytest.fixture
def app_config():
    return {"FETCH_ALLOWED_HOSTS": frozenset({"127.0.0.1"}), "FETCH_TIMEOUT": 2}


@pytest.fixture
def site():
    with LocalSite() as running:
        yield running


@pytest.fixture
def writer(auth):
    return auth.login("writer")


def documents(db) -> list[Document]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Document).where(Document.owner_id.is_not(None))))


def drafts(db) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count(ArticleDraft.id)))


def multipart(**data) -> tuple[bytes, str]:
    """A multipart body in memory (the test client would spool a large one to a temporary
    file it never closes)."""
    values = {
        name: FileStorage(io.BytesIO(value[0]), filename=value[1])
        if isinstance(value, tuple)
        else value
        for name, value in data.items()
    }
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def age_drafts(db) -> None:
    """Make every draft two days old."""
    old = utcnow() - timedelta(days=2)
    db.session.execute(sa.update(ArticleDraft).values(created_at=old))
    db.session.commit()


def post(client, **data):
    if not any(isinstance(value, tuple) for value in data.values()):
        return client.post("/articles/new", data=data)
    body, content_type = multipart(**data)
    return client.post("/articles/new", data=body, content_type=content_type)


def preview(client, **data):
    return post(client, preview="1", **data)


def draft_token(response) -> str:
    return page(response).find("input", name="draft").get("value")


def field(root, name: str):
    return root.find(None, name=name)


def assert_form_error(response, status: int, field_name: str, words: str) -> None:
    """The form again, with the message announced and tied to the field."""
    assert response.status_code == status, (response.status_code, response.get_data()[:500])
    root = page(response)
    form = root.by_id("article-form")
    assert form is not None, "the form is not shown again"
    alert = root.find(None, role="alert")
    assert alert is not None and words.lower() in alert.text().lower(), alert and alert.text()
    if field_name != "source":
        target = {"file": "article-file", "url": "article-url", "text": "article-text"}.get(
            field_name, f"article-{field_name.replace('_', '-')}"
        )
        element = root.by_id(target)
        assert element.get("aria-invalid") == "true"
        assert alert.get("id") in element.get("aria-describedby").split()


# --- the form ---------------------------------------------------------------------------------


def test_the_form_needs_an_account(client):
    response = client.get("/articles/new")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/articles/new", data={"text": PASTED}).status_code == 401


def test_the_form_has_labelled_fields_and_three_ways_in(client, writer):
    response = client.get("/articles/new")
    assert response.status_code == 200
    root = page(response)
    form = root.by_id("article-form")
    assert form.get("enctype") == "multipart/form-data" and form.get("method") == "post"
    ways = form.find("fieldset", class_="ways")
    assert ways.find("legend").text() == "How to bring it in"
    radios = ways.find_all("input", type="radio", name="way")
    assert [r.get("value") for r in radios] == ["text", "file", "url"]
    assert "checked" in radios[0].attrs
    for element_id in (
        "article-text",
        "article-file",
        "article-url",
        "article-title",
        "article-byline",
        "article-date",
        "article-source-url",
    ):
        assert root.find("label", **{"for": element_id}) is not None, element_id
        assert root.by_id(element_id) is not None, element_id
    assert field(form, "csrf_token") is not None
    partial = client.get("/articles/new", headers=HTMX)
    assert "<html" not in partial.get_data(as_text=True) and "hx-request" in vary(partial)


def test_the_library_links_to_the_form(client, writer):
    link = page(client.get("/")).find("a", href="/articles/new")
    assert link is not None and link.text() == "Add an article"


# --- paste, preview, publish -------------------------------------------------------------------


def test_preview_shows_what_readers_will_see_and_stores_no_article(client, db, writer):
    response = preview(client, text=PASTED)
    assert response.status_code == 200
    root = page(response)
    assert documents(db) == []
    assert client.get("/articles/a-pasted-piece-on-tides").status_code == 404
    # Metadata taken from the text, editable.
    assert field(root, "title").get("value") == TITLE
    assert field(root, "byline").get("value") == "Jo Smith"
    assert field(root, "date").get("value") == "March 3, 2024"
    assert field(root, "source_url").get("value") == "https://example.org/tides"
    # The body as the reader renders it: blocks with ids, spans with offsets.
    body = root.by_id("preview-body")
    assert body.find("p", id="block-0").find("span").get("data-o") == "0"
    assert "The moon pulls the sea" in body.text() and "Original url" not in body.text()
    assert root.find("span", class_="word-count").text() == "25 words"
    assert root.find("h2", class_="preview-title").text() == TITLE
    assert drafts(db) == 1


def test_publish_from_the_preview_with_edited_metadata(client, db, writer):
    token = draft_token(preview(client, text=PASTED))
    response = post(
        client,
        draft=token,
        publish="1",
        title="Tides, Edited",
        byline="Jo Smith",
        date="March 4, 2024",
        source_url="https://example.org/tides",
    )
    assert response.status_code == 302
    [document] = documents(db)
    assert response.headers["Location"] == f"/articles/{document.slug}"
    version = document.current_version
    assert (version.title, version.published_text, version.published.isoformat()) == (
        "Tides, Edited",
        "March 4, 2024",
        "2024-03-04",
    )
    assert document.owner_id == writer.id and document.share_token is None
    assert version.created_by_id == writer.id
    assert version.summary == "Added in the browser from pasted text"
    assert drafts(db) == 0
    reader = page(client.get(response.headers["Location"]))
    assert reader.find("h1").text() == "Tides, Edited"
    assert reader.find("nav", class_="owner-tools") is not None


def test_empty_details_on_the_form_are_taken_from_the_text(client, db, writer):
    fields = {"title": "", "byline": "", "date": "", "source_url": ""}
    root = page(preview(client, text=PASTED, **fields))
    assert field(root, "byline").get("value") == "Jo Smith"
    assert field(root, "details").get("value") == "exact"


def test_publish_straight_from_the_form_as_the_contract_says(client, db, writer):
    response = post(client, text=PASTED)
    assert response.status_code == 302
    [document] = documents(db)
    assert document.current_version.title == TITLE
    assert response.headers["Location"] == f"/articles/{document.slug}"
    assert drafts(db) == 0


def test_plain_text_needs_a_title_field(client, db, writer):
    response = preview(client, text=PLAIN)
    assert_form_error(response, 422, "title", "no title")
    assert field(page(response), "text").text() == PLAIN
    assert drafts(db) == 0
    response = preview(client, text=PLAIN, title="Calm Sea")
    assert response.status_code == 200
    assert field(page(response), "title").get("value") == "Calm Sea"
    body = page(response).by_id("preview-body")
    assert [p.text() for p in body.find_all("p")] == PLAIN.split("\n\n")


def test_back_keeps_what_was_typed(client, db, writer):
    token = draft_token(preview(client, text=PASTED, title="My Own Title"))
    response = post(client, draft=token, back="1", title="Typed Again", byline="")
    assert response.status_code == 200
    root = page(response)
    assert root.by_id("article-form") is not None
    assert field(root, "text").text() == PASTED
    assert field(root, "title").get("value") == "Typed Again"
    assert field(root, "draft").get("value") == token
    assert root.find("input", id="way-text").attrs.get("checked", False) is None
    assert documents(db) == []


def test_someone_elses_or_an_old_draft_is_refused(client, db, auth, writer):
    token = draft_token(preview(client, text=PASTED))
    auth.login("intruder")
    response = post(client, draft=token, publish="1")
    assert_form_error(response, 410, "source", "expired")
    assert documents(db) == []
    auth.login("writer")
    db.session.execute(
        sa.update(ArticleDraft).values(created_at=sa.func.datetime("now", "-2 days"))
    )
    db.session.commit()
    assert_form_error(post(client, draft=token, publish="1"), 410, "source", "expired")


def test_publishing_sweeps_old_drafts(client, db, writer):
    preview(client, text=PASTED)
    db.session.execute(
        sa.update(ArticleDraft).values(created_at=sa.func.datetime("now", "-2 days"))
    )
    db.session.commit()
    preview(client, text=PASTED)
    assert drafts(db) == 1


def test_pasted_html_is_text_and_scripts_never_run(client, db, writer):
    text = '# Sneaky\n\n<script>alert("x")</script> and <img src=x onerror=alert(1)> here.\n'
    root = page(preview(client, text=text))
    body = root.by_id("preview-body")
    assert body.find("script") is None and body.find("img") is None
    assert '<script>alert("x")</script>' in body.text()


# --- upload ------------------------------------------------------------------------------------


def test_upload_a_markdown_file(client, db, writer):
    response = preview(client, way="file", file=(PASTED.encode(), "tides.md"))
    assert response.status_code == 200
    assert field(page(response), "title").get("value") == TITLE
    token = draft_token(response)
    assert post(client, draft=token, publish="1").status_code == 302
    [document] = documents(db)
    assert document.current_version.summary == "Added in the browser from the file tides.md"


def test_upload_a_word_document_with_an_image(client, db, writer):
    image = png(5, 5, (10, 120, 200))
    data = docx(image=image, caption="A blue square")
    response = preview(client, way="file", file=(data, "notes.docx"))
    assert response.status_code == 200
    root = page(response)
    assert field(root, "title").get("value") == "Notes on Slow Reading"
    body = root.by_id("preview-body")
    assert body.find("h2") is not None or body.find("h1") is not None
    assert body.find("strong").text() == "deliberate"
    img = body.find("img")
    assert img.get("src").startswith("data:image/png;base64,")  # nothing stored yet
    response = post(client, draft=draft_token(response), publish="1")
    reader = page(client.get(response.headers["Location"]))
    digest = hashlib.sha256(image).hexdigest()
    assert reader.find("img").get("src") == f"/media/{digest}"
    assert client.get(f"/media/{digest}").data == image


def test_upload_a_pdf(client, db, writer):
    lines = wrap("Tides come and go as the moon turns around the earth, " * 6)
    data = pdf([lines, lines], title="Moon and Tides")
    response = preview(client, way="file", file=(data, "moon.pdf"))
    assert response.status_code == 200
    assert field(page(response), "title").get("value") == "Moon and Tides"


def test_a_file_is_sent_once_back_and_publish_use_the_draft(client, db, writer):
    token = draft_token(preview(client, way="file", file=(PASTED.encode(), "tides.md")))
    back = page(post(client, draft=token, back="1"))
    assert back.find("input", id="way-file").attrs.get("checked", False) is None
    assert "tides.md" in back.find("p", class_="kept-file").text()
    again = preview(client, way="file", draft=token, title="Chosen Once")
    assert again.status_code == 200 and draft_token(again) == token
    assert post(client, draft=token, title="Chosen Once", publish="1").status_code == 302
    assert documents(db)[0].current_version.title == "Chosen Once"


# --- a web address -----------------------------------------------------------------------------


def test_import_a_web_page_with_its_images(client, db, writer, site):
    image = png(4, 4, (9, 9, 9))
    article = ARTICLE_HTML + '<figure><img src="/a.png" alt="A dark square"></figure>'
    article += "<p>The last paragraph of the page, long enough to be kept as article text.</p>"
    site.page("/story", html_page(article))
    site.page("/a.png", image, "image/png")
    response = preview(client, way="url", url=site.url("/story"))
    assert response.status_code == 200, page(response).text()[:500]
    root = page(response)
    assert field(root, "title").get("value") == "Slow Reading in a Fast Age"
    assert field(root, "byline").get("value") == "Jane Doe"
    assert field(root, "source_url").get("value") == "https://news.example.org/2024/slow-reading"
    body = root.by_id("preview-body")
    assert "Most read" not in body.text() and "cookies" not in body.text()
    assert body.find("img").get("alt") == "A dark square"
    requests = len(site.requests)
    # Publishing does not fetch the page again.
    response = post(client, draft=draft_token(response), publish="1")
    assert response.status_code == 302 and len(site.requests) == requests
    [document] = documents(db)
    assert document.current_version.summary == f"Added in the browser from {site.url('/story')}"


def test_the_same_address_is_not_fetched_twice_between_preview_and_back(client, writer, site):
    site.page("/story", html_page(ARTICLE_HTML))
    token = draft_token(preview(client, way="url", url=site.url("/story")))
    back = page(post(client, draft=token, back="1"))
    assert field(back, "url").get("value") == site.url("/story")
    count = len(site.requests)
    assert preview(client, way="url", url=site.url("/story"), draft=token).status_code == 200
    assert len(site.requests) == count


# --- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, status, field_name, words",
    [
        ({"text": ""}, 400, "source", "paste the article"),
        ({"way": "text", "text": "  \n\t "}, 422, "text", "empty"),
        ({"way": "text", "text": "x" * 300_001}, 413, "text", "the limit is 300,000"),
        ({"way": "url", "url": ""}, 400, "url", "empty"),
        ({"way": "url", "url": "ftp://example.org/a"}, 422, "url", "not a web address"),
        ({"way": "url", "url": "javascript:alert(1)"}, 422, "url", "not a web address"),
        ({"way": "file"}, 400, "file", "choose the article's file"),
        ({"text": PASTED, "url": "https://example.org"}, 400, "source", "not text and url"),
        ({"text": PASTED, "source_url": "javascript:alert(1)"}, 422, "source_url", "web address"),
        ({"text": PASTED, "title": "T" * 501}, 422, "title", "the limit is 500"),
    ],
)
def test_bad_input_in_the_form(client, db, writer, data, status, field_name, words):
    response = preview(client, **data)
    assert_form_error(response, status, field_name, words)
    assert documents(db) == [] and drafts(db) == 0
    if data.get("text", "").strip() and len(data["text"]) < 1000:
        assert field(page(response), "text").text() == data["text"]


@pytest.mark.parametrize(
    "content, filename, words",
    [
        (b"", "empty.md", "empty"),
        (png(), "photo.pdf", "is a png image, not a pdf"),
        (png(), "photo.md", "png image"),
        (b"PK\x03\x04 this is not really a zip archive at all", "broken.docx", "docx"),
        (b"%PDF-1.4\n1 0 obj garbage without end", "broken.pdf", "pdf"),
        (bytes(range(256)) * 4, "binary.txt", "not"),
    ],
)
def test_bad_files(client, db, writer, content, filename, words):
    response = preview(client, way="file", file=(content, filename), title="Kept title")
    assert_form_error(response, 422, "file", words)
    assert field(page(response), "title").get("value") == "Kept title"
    assert documents(db) == [] and drafts(db) == 0


def test_a_pdf_without_a_text_layer(client, db, writer):
    response = preview(client, way="file", file=(scanned_pdf(), "scan.pdf"))
    assert_form_error(response, 422, "file", "text")
    assert documents(db) == []


def test_a_file_over_20_mb_is_refused_in_the_form(client, db, writer):
    # Just over the file limit, under the request's: refused by the size check.
    data = b"a" * (20 * 1024 * 1024 + 10)
    assert_form_error(preview(client, way="file", file=(data, "big.txt")), 413, "file", "20 MB")
    # Far over: the request itself is too large to read.
    data = b"a" * (22 * 1024 * 1024)
    response = preview(client, way="file", file=(data, "huge.txt"))
    assert_form_error(response, 413, "file", "20 MB")
    assert documents(db) == [] and drafts(db) == 0


def test_other_forms_keep_the_small_request_limit(client, writer):
    big = "x" * (2 * 1024 * 1024)
    response = client.post("/classes", data={"name": big})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "route, words",
    [
        (lambda site: ("/missing", None), "404"),
        (lambda site: ("/data.json", ('{"a": 1}', "application/json")), "application/json"),
        (lambda site: ("/pic", (png(), "image/png")), "image/png"),
    ],
)
def test_bad_web_addresses(client, db, writer, site, route, words):
    path, served = route(site)
    if served:
        site.page(path, served[0], served[1])
    response = preview(client, way="url", url=site.url(path), title="Kept")
    assert_form_error(response, 422, "url", words)
    assert field(page(response), "url").get("value") == site.url(path)
    assert documents(db) == [] and drafts(db) == 0


def test_a_web_address_that_times_out(client, db, writer, site):
    site.routes["/slow"] = slow(5)
    response = preview(client, way="url", url=site.url("/slow"))
    assert_form_error(response, 422, "url", "did not answer")
    assert documents(db) == []


def test_a_huge_web_page(client, db, writer, site):
    site.routes["/endless"] = endless(limit=30 * 1024 * 1024)
    response = preview(client, way="url", url=site.url("/endless"))
    assert_form_error(response, 422, "url", "larger than")


def test_a_redirect_to_a_private_address_is_refused(client, db, writer, site):
    site.routes["/jump"] = lambda h: h.redirect("http://169.254.169.254/latest/meta-data/")
    site.routes["/jump2"] = lambda h: h.redirect(f"http://10.1.2.3:{site.port}/secret")
    for path in ("/jump", "/jump2"):
        response = preview(client, way="url", url=site.url(path))
        assert_form_error(response, 422, "url", "does not fetch private")
    assert [p for p, _ in site.requests] == ["/jump", "/jump2"]
    assert documents(db) == []


def test_loopback_is_refused_when_not_allowed(client, db, app, writer, site):
    app.config["FETCH_ALLOWED_HOSTS"] = frozenset()
    site.page("/story", html_page(ARTICLE_HTML))
    response = preview(client, way="url", url=site.url("/story"))
    assert_form_error(response, 422, "url", "which is not public")
    assert site.requests == []


def test_an_error_in_an_htmx_request_is_the_form_fragment(client, writer):
    response = client.post("/articles/new", data={"way": "text", "text": ""}, headers=HTMX)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" not in body and 'role="alert"' in body


def test_no_version_rows_were_left_by_refusals(client, db, writer):
    before = db.session.scalar(sa.select(sa.func.count(DocumentVersion.id)))
    preview(client, way="file", file=(png(), "photo.pdf"))
    preview(client, text="")
    assert db.session.scalar(sa.select(sa.func.count(DocumentVersion.id))) == before


def test_words_are_counted_in_any_script(client, writer):
    text = "# Заголовок\n\nЭто короткий текст на русском языке.\n"
    root = page(preview(client, text=text))
    assert re.fullmatch(r"6 words", root.find("span", class_="word-count").text())


def test_a_huge_upload_is_refused_in_the_form_also_before_the_csrf_check(client, app, writer):
    """With CSRF on, the token check reads the form first: the per-route limit holds
    there too, and the refusal is still the form with its message."""
    app.config["WTF_CSRF_ENABLED"] = True
    token = page(client.get("/articles/new")).find("input", name="csrf_token").get("value")
    data = b"a" * (22 * 1024 * 1024)
    response = preview(client, way="file", file=(data, "huge.txt"), csrf_token=token)
    assert_form_error(response, 413, "file", "20 MB")
    small = preview(client, text=PASTED)  # no token
    assert small.status_code == 400 and "security token" in small.get_data(as_text=True)
    assert preview(client, text=PASTED, csrf_token=token).status_code == 200


def test_a_detail_cleared_in_the_preview_is_cleared(client, db, writer):
    token = draft_token(preview(client, text=PASTED))
    fields = {"title": "", "byline": "", "date": "", "source_url": "", "details": "exact"}
    response = post(client, draft=token, publish="1", **fields)
    assert response.status_code == 302
    version = documents(db)[0].current_version
    assert version.title == TITLE  # a blank title keeps the one found in the text
    assert (version.byline, version.published_text, version.source_url) == (None, None, None)


def test_an_article_titled_new_does_not_hide_behind_the_form(client, db, writer):
    response = post(client, text="# New\n\nA short article whose title is the word new.\n")
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/new-2"
    assert "whose title is the word new" in client.get("/articles/new-2").get_data(as_text=True)


def test_control_characters_in_a_paste_are_dropped(client, db, writer):
    text = "# Bells\x00\x07\n\nThe bells \x00rang at noon\x1b.\n"
    response = post(client, text=text)
    assert response.status_code == 302
    version = documents(db)[0].current_version
    assert version.title == "Bells" and "The bells rang at noon." in version.text


def test_the_preview_says_what_was_left_out(client, writer, site):
    body = ARTICLE_HTML + f'<p><img src="http://127.0.0.2:{site.port}/a.png" alt="x"></p>'
    site.page("/story", html_page(body))
    response = preview(client, way="url", url=site.url("/story"))
    notes = page(response).find("ul", class_="extract-notes")
    assert notes is not None and "1 image could not be copied" in notes.text()
    again = preview(client, draft=draft_token(response), title="Same draft")
    assert "1 image could not be copied" in again.get_data(as_text=True)
