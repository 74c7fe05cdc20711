"""Images are figures outside the annotatable text; captions are text; nothing else loads."""

from __future__ import annotations

import hashlib

import pytest

from tests.samples import png
from tests.unit.test_sanitize import HOSTILE_HTML, assert_within, elements
from webapp.text.document import VoidTag, build_layout
from webapp.text.marks import Highlight, render_layout
from webapp.text.sanitize import (
    ARTICLE_ATTRIBUTES,
    ARTICLE_TAGS,
    clean_article_html,
    render_article,
)

IMAGE = png()
DIGEST = hashlib.sha256(IMAGE).hexdigest()
OTHER = "0" * 64


def test_an_asset_image_line_becomes_a_figure_with_its_caption():
    markdown = (
        f"Before.\n\n![A red square](asset:{DIGEST})\nThe *red* square, enlarged.\n\nAfter.\n"
    )
    html = render_article(markdown, {DIGEST})
    assert (
        f'<figure><img src="/media/{DIGEST}" alt="A red square">'
        "<figcaption>The <em>red</em> square, enlarged.</figcaption></figure>"
    ) in html
    layout = build_layout(html)
    # The image adds nothing to the canonical text; the caption is a block of its own.
    assert layout.text == "Before.\n\nThe red square, enlarged.\n\nAfter."
    assert [block.tag for block in layout.blocks] == ["p", "figcaption", "p"]
    assert VoidTag("img", (("src", f"/media/{DIGEST}"), ("alt", "A red square"))) in layout.items


def test_a_figure_renders_outside_every_block_and_its_caption_can_be_highlighted():
    markdown = f"Before.\n\n![A red square](asset:{DIGEST})\nThe caption.\n"
    layout = build_layout(render_article(markdown, {DIGEST}))
    start = layout.text.index("caption")
    page = render_layout(layout, [Highlight(7, start, start + len("caption"))])
    assert (
        f'<figure>\n<img src="/media/{DIGEST}" alt="A red square" loading="lazy">\n'
        '<figcaption id="block-1"'
    ) in page
    assert f'<mark data-at="{start}" class="hl hl-yellow depth-1">caption</mark>' in page
    # No offset span and no block id around the image.
    image_tag = page[page.index("<img") : page.index(">", page.index("<img")) + 1]
    assert "data-o" not in image_tag and "id=" not in image_tag


def test_a_figure_without_caption_and_one_in_a_tight_list():
    markdown = f"![](asset:{DIGEST})\n\n- ![x](asset:{DIGEST})\n- item\n"
    html = render_article(markdown, {DIGEST})
    assert html.count("<figure>") == 2 and "<figcaption>" not in html
    assert build_layout(html).text == "item"


@pytest.mark.parametrize(
    "markdown",
    [
        "![remote](https://tracker.example/pixel.png)\n\nText.\n",
        f"![unknown](asset:{OTHER})\nCaption stays as text.\n\nText.\n",
        f"Text ![inline](asset:{DIGEST}) in a sentence.\n",
        "![bad](asset:../../etc/passwd)\n\nText.\n",
    ],
    ids=["third-party", "unknown asset", "mid-paragraph", "not a digest"],
)
def test_other_images_are_dropped(markdown):
    html = render_article(markdown, {DIGEST})
    assert "<img" not in html and "<figure" not in html
    assert "tracker.example" not in html and "asset:" not in html


def test_without_known_assets_nothing_is_shown():
    assert "<img" not in render_article(f"![a](asset:{DIGEST})\n\nText.\n")


@pytest.mark.parametrize(
    "html",
    [
        '<img src="https://evil.example/x.png">',
        '<img src="/media/../admin">',
        f'<img src="/media/{DIGEST}" onerror="alert(1)" style="x">',
        f'<img src="/media/{DIGEST}?x=1">',
        '<img src="data:image/png;base64,AAAA">',
        '<figure onclick="x"><img src="javascript:alert(1)"><figcaption>c</figcaption></figure>',
    ],
)
def test_the_cleaner_keeps_only_the_apps_own_images(html):
    cleaned = clean_article_html(html)
    assert_within(cleaned, ARTICLE_TAGS, ARTICLE_ATTRIBUTES)
    for tag, attrs in elements(cleaned):
        if tag == "img":
            assert attrs["src"] == f"/media/{DIGEST}" and set(attrs) <= {"src", "alt"}


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_hostile_html_with_images_allowed_still_leaves_nothing_active(html):
    cleaned = clean_article_html(html)
    assert_within(cleaned, ARTICLE_TAGS, ARTICLE_ATTRIBUTES)
    assert "<img" not in cleaned  # none of them is one of the app's images
