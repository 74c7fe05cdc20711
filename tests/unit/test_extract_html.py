"""Web pages through extract(): the article kept, the page around it dropped, nothing active."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.samples import ARTICLE_HTML, html_page, png
from tests.unit.test_sanitize import HOSTILE_HTML, assert_within, elements
from webapp.text.document import build_layout
from webapp.text.extract import ExtractError, extract
from webapp.text.sanitize import ARTICLE_ATTRIBUTES, ARTICLE_TAGS, render_article

PAGE_URL = "https://news.example.org/2024/slow-reading?utm_source=x"


def rendered(article) -> str:
    return render_article(article.body_markdown, {image.digest for image in article.images})


def test_the_article_is_kept_and_the_page_around_it_dropped():
    article = extract(html_page(ARTICLE_HTML).encode(), filename="page.html", base_url=PAGE_URL)
    assert article.kind == "html"
    assert article.title == "Slow Reading in a Fast Age"
    assert article.byline == "Jane Doe"
    assert article.date_text == "2024-03-05"
    assert article.source_url == "https://news.example.org/2024/slow-reading"
    text = build_layout(rendered(article)).text
    assert text.startswith("Researchers say that slow reading helps people")
    assert text.endswith("more than a thousand students taking part.")
    for boilerplate in (
        "Sign in",
        "cookies",
        "Most read",
        "Celebrity chef",
        "Copyright",
        "Privacy",
        "SCRIPT-IN",
        "color: red",
        "By Jane Doe",
    ):
        assert boilerplate not in text, boilerplate
    # The title is metadata, not a heading repeated in the body.
    assert "Slow Reading in a Fast Age" not in text


def test_structure_is_kept_headings_lists_quotes_links_emphasis():
    article = extract(html_page(ARTICLE_HTML).encode(), base_url=PAGE_URL)
    html = rendered(article)
    tags = [tag for tag, _ in elements(html)]
    assert "h2" in tags and "ul" in tags and "ol" in tags and "blockquote" in tags
    assert "<strong>slow reading</strong>" in html and "<em>two hundred</em>" in html
    # A relative link is resolved against the page's address.
    assert '<a href="https://news.example.org/2023/the-study">the original paper</a>' in html
    assert "<li>Then they annotated it.</li>" in html


def test_an_html_fragment_without_a_page_around_it():
    fragment = (
        "<h1>Fragment Title</h1><p>A paragraph of a <b>fragment</b> with enough words to be "
        "kept.</p><p>Another paragraph, with a <a href='https://x.example/'>link</a>.</p>"
    )
    article = extract(fragment.encode(), filename="fragment.html")
    assert article.title == "Fragment Title"
    assert "<strong>fragment</strong>" in rendered(article)


def test_a_pdf_name_with_html_inside_is_read_as_html():
    article = extract(html_page(ARTICLE_HTML).encode(), filename="report.pdf")
    assert article.kind == "html" and article.title == "Slow Reading in a Fast Age"


def test_a_declared_charset_is_honoured():
    page = html_page(
        "<p>Déjà vu: a café in São Paulo, and the naïve reader who went there.</p>"
        "<p>Second paragraph with more words so that it is kept by the extractor.</p>"
    )
    data = page.replace('charset="utf-8"', 'charset="iso-8859-1"').encode("latin-1")
    article = extract(data, filename="latin.html")
    assert "Déjà vu: a café in São Paulo" in build_layout(rendered(article)).text


def test_images_are_copied_through_the_fetcher_and_become_figures():
    red, blue = png(rgb=(255, 0, 0)), png(rgb=(0, 0, 255))
    inline = base64.b64encode(blue).decode()
    body = ARTICLE_HTML + (
        '<figure><img src="/img/red.png" alt="A red square"></figure>'
        '<p><img src="https://cdn.example/missing.png" alt="gone"></p>'
        f'<p><img src="data:image/png;base64,{inline}" alt="blue"></p>'
        "<p>A closing paragraph that is long enough to be part of the article body.</p>"
    )
    asked: list[str] = []

    def fetch_image(url: str) -> bytes | None:
        asked.append(url)
        return red if url == "https://news.example.org/img/red.png" else None

    article = extract(html_page(body).encode(), base_url=PAGE_URL, fetch_image=fetch_image)
    assert sorted(asked) == [
        "https://cdn.example/missing.png",
        "https://news.example.org/img/red.png",
    ]
    digests = {image.digest: image for image in article.images}
    assert hashlib.sha256(red).hexdigest() in digests
    image = digests[hashlib.sha256(red).hexdigest()]
    assert (image.content_type, image.data, image.alt) == ("image/png", red, "A red square")
    assert f"![A red square](asset:{image.digest})" in article.body_markdown
    assert "1 image could not be copied and was left out." in article.notes
    html = rendered(article)
    assert f'<img src="/media/{image.digest}" alt="A red square">' in html
    assert "cdn.example" not in html and "news.example.org/img" not in html


def test_without_a_fetcher_remote_images_are_left_out():
    body = ARTICLE_HTML + '<p><img src="https://cdn.example/a.png" alt="a"></p>'
    article = extract(html_page(body).encode(), base_url=PAGE_URL)
    assert article.images == () and "<img" not in rendered(article)


def test_an_image_that_is_not_an_image_is_left_out():
    body = ARTICLE_HTML + '<p><img src="/x.png" alt="x"></p>'
    article = extract(
        html_page(body).encode(), base_url=PAGE_URL, fetch_image=lambda url: b"<html>nope</html>"
    )
    assert article.images == ()
    assert any("not in PNG, JPEG, GIF or WebP format" in note for note in article.notes)


@pytest.mark.parametrize("hostile", HOSTILE_HTML)
def test_hostile_html_inside_an_article_leaves_nothing_active(hostile):
    body = (
        "<p>An article paragraph that is long enough to be kept, before the hostile part.</p>"
        f"<p>{hostile}</p>"
        "<p>Another article paragraph that is long enough to be kept, after the hostile part.</p>"
    )
    article = extract(html_page(body).encode(), base_url=PAGE_URL, fetch_image=lambda url: png())
    html = rendered(article)
    assert_within(html, ARTICLE_TAGS, ARTICLE_ATTRIBUTES)
    lowered = html.lower()
    for forbidden in ("<script", "<iframe", "<object", "<embed", "<svg", "<style", "<form"):
        assert forbidden not in lowered
    for tag, attrs in elements(html):
        assert not any(name.startswith("on") for name in attrs)
        assert "javascript" not in attrs.get("href", "").lower()
        if tag == "img":
            assert attrs["src"].startswith("/media/")


def test_a_page_built_by_javascript_is_refused_clearly():
    page = (
        b"<!doctype html><html><head><title>App</title><script src='/app.js'></script></head>"
        b"<body><div id='root'></div><script>render('root')</script></body></html>"
    )
    with pytest.raises(ExtractError, match="No article text was found in this page"):
        extract(page, filename="app.html")


def test_a_figure_keeps_its_caption_as_text_and_the_image_beside_it():
    body = ARTICLE_HTML + (
        '<figure><img src="/pic.png" alt="pic"><figcaption>The caption of the '
        "<em>picture</em>.</figcaption></figure>"
        '<figure><img src="/gone.png" alt="gone"><figcaption>A caption whose image could not '
        "be copied.</figcaption></figure>"
        "<p>A closing paragraph that is long enough to be part of the article body.</p>"
    )
    image = png(2, 5, (7, 7, 7))
    article = extract(
        html_page(body).encode(),
        base_url=PAGE_URL,
        fetch_image=lambda url: image if url.endswith("/pic.png") else None,
    )
    [asset] = article.images
    html = rendered(article)
    assert (
        f'<figure><img src="/media/{asset.digest}" alt="pic">'
        "<figcaption>The caption of the <em>picture</em>.</figcaption></figure>"
    ) in html
    assert "<p>A caption whose image could not be copied.</p>" in html
    text = build_layout(html).text
    assert "The caption of the picture." in text  # captions are text, can be highlighted
