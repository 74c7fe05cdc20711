"""Importing articles in the seed's Markdown shape: metadata out, body kept."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from webapp.text.document import build_layout
from webapp.text.importer import (
    MAX_ARTICLE_CHARS,
    ArticleFormatError,
    inline_to_plain,
    parse_article,
    parse_date,
    slugify,
)
from webapp.text.marks import render_layout
from webapp.text.sanitize import render_article

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_959b789aad009a97.txt"
SEED_URL = (
    "https://www.themoscowtimes.com/2018/07/27/"
    "russian-military-needed-in-syria-long-term-assad-says-a62363"
)


def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


def canonical(markdown: str) -> str:
    return build_layout(render_article(markdown)).text


# -- the seed -------------------------------------------------------------------------------


def test_seed_metadata():
    article = parse_article(seed_text())
    assert article.title == "Russian Military Needed in Syria Long Term, Assad Says"
    assert article.byline == "Reuters"
    assert article.published == date(2018, 7, 27)
    assert article.published_text == "July 27, 2018"
    assert article.source_url == SEED_URL
    assert len(article.content_hash) == 64


def test_seed_body_keeps_the_article_and_drops_the_metadata():
    body = parse_article(seed_text()).body_markdown
    assert body.startswith("**Bashar al-Assad / Kremlin.ru**")
    assert body.endswith("Interfax quoted Assad as saying.\n")
    assert "# Russian Military" not in body
    assert "By [Reuters]" not in body
    assert "July 27, 2018" not in body
    assert "Original url" not in body
    assert "themoscowtimes" not in body


def test_seed_canonical_text_has_no_raw_markdown():
    text = canonical(parse_article(seed_text()).body_markdown)
    for raw in ("**", "[Reuters](#)", "](#)", "\\(", "\\)", "<https://", "Original url", "# "):
        assert raw not in text, raw
    assert "Bashar al-Assad / Kremlin.ru" in text
    assert (
        "Related article: The Growing Risks of Russia's Military Intervention in Syria (Op-Ed)"
        in (text)
    )
    assert '"The fate of "White Helmets" is the same as of any terrorist,"' in text


def test_seed_links_to_hash_do_not_navigate():
    html = render_article(parse_article(seed_text()).body_markdown)
    assert '<a href="#">' in html  # the cleaner keeps it; the layout drops it
    layout = build_layout(html)
    links = [
        inline
        for block in layout.blocks
        for run in block.runs
        for inline in run.path
        if inline.tag == "a"
    ]
    assert links, "the seed has a link"
    assert all("href" not in dict(link.attrs) for link in links)
    page = render_layout(layout, [])
    assert "href" not in page


# -- other scripts and planes ---------------------------------------------------------------


ARABIC = """# القوات الروسية باقية في سوريا

By رويترز

July 27, 2018

قال الرئيس **السوري** بشار الأسد إن القوات الروسية ضرورية. هل هذا صحيح؟ نعم.

"نحن ندعو اللاجئين إلى العودة"، قال [الأسد](#).

Original url: <https://example.com/ar/1>
"""


def test_arabic_right_to_left_article():
    article = parse_article(ARABIC)
    assert article.title == "القوات الروسية باقية في سوريا"
    assert article.byline == "رويترز"
    assert article.published == date(2018, 7, 27)
    assert article.source_url == "https://example.com/ar/1"
    text = canonical(article.body_markdown)
    assert text.startswith("قال الرئيس السوري بشار الأسد")
    assert "**" not in text and "](#)" not in text
    assert '"نحن ندعو اللاجئين إلى العودة"، قال الأسد.' in text
    assert slugify(article.title) == "القوات-الروسية-باقية-في-سوريا"


def test_arabic_metadata_lines_in_arabic_stay_in_the_body():
    # Only an English `By` line and a parsable date are metadata; nothing is lost.
    source = "# عنوان\n\nبقلم رويترز\n\n٢٧ يوليو ٢٠١٨\n\nنص المقال.\n"
    article = parse_article(source)
    assert article.byline is None and article.published is None
    assert canonical(article.body_markdown) == "بقلم رويترز\n\n٢٧ يوليو ٢٠١٨\n\nنص المقال."


CYRILLIC = """# Россия и Сирия: «долгосрочное» присутствие

By Интерфакс

27 July 2018

Президент сказал, что «российские войска» нужны — *надолго*.

Original url:

<https://example.ru/article?id=1>
"""


def test_cyrillic_article():
    article = parse_article(CYRILLIC)
    assert article.title == "Россия и Сирия: «долгосрочное» присутствие"
    assert article.byline == "Интерфакс"
    assert article.published == date(2018, 7, 27)
    assert article.source_url == "https://example.ru/article?id=1"
    assert canonical(article.body_markdown) == (
        "Президент сказал, что «российские войска» нужны — надолго."
    )
    assert slugify(article.title) == "россия-и-сирия-долгосрочное-присутствие"


EMOJI = """# Party 🎉 for 𝔐athematics

By Ann Lee

2020-01-02

We cheered 🎉 and clapped 👏🏽 for **𝔐**.

A second 🎉 paragraph.
"""


def test_characters_outside_the_bmp():
    article = parse_article(EMOJI)
    assert article.title == "Party 🎉 for 𝔐athematics"
    assert article.byline == "Ann Lee"
    assert article.published == date(2020, 1, 2)
    assert article.source_url is None
    text = canonical(article.body_markdown)
    assert text == "We cheered 🎉 and clapped 👏🏽 for 𝔐.\n\nA second 🎉 paragraph."
    # Code points, not UTF-16 units: 🎉 and 𝔐 are one each, 👏🏽 is two.
    assert len("We cheered 🎉 and clapped 👏🏽 for 𝔐.") == 34
    assert slugify(article.title) == "party-for-mathematics"  # NFKC folds 𝔐 to M


# -- malformed input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "Just a paragraph.\n\nAnother one.\n",
        "## A subheading\n\nbody\n",
        "#NoSpace\n\nbody\n",
        "By Reuters\n\n# Title later\n\nbody\n",
    ],
)
def test_missing_title_is_a_clear_error(source):
    with pytest.raises(ArticleFormatError, match=r"must start with a '# Title' line") as error:
        parse_article(source)
    first_line = source.split("\n", 1)[0]
    assert first_line[:20] in str(error.value)


@pytest.mark.parametrize("source", ["", "   \n\n\t\n", "\ufeff"])
def test_empty_file_is_a_clear_error(source):
    with pytest.raises(ArticleFormatError, match="an empty file"):
        parse_article(source)


def test_binary_input_is_rejected():
    with pytest.raises(ArticleFormatError, match="binary"):
        parse_article("# Title\n\nbody\x00\x01\x02 more\n")
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".decode("latin-1")
    with pytest.raises(ArticleFormatError, match="binary"):
        parse_article(png)


@pytest.mark.parametrize(
    "source",
    [
        "# Title\n",
        "# Title\n\n\n   \n",
        "# Title\n\nBy Someone\n\nJuly 1, 2020\n",
        "# Title\n\nBy Someone\n\nJuly 1, 2020\n\nOriginal url: <https://example.com/x>\n",
    ],
)
def test_empty_body_is_a_clear_error(source):
    with pytest.raises(ArticleFormatError, match="no body text"):
        parse_article(source)


def test_title_without_text_is_rejected():
    with pytest.raises(ArticleFormatError, match="no text"):
        parse_article("# ![](cover.png)\n\nbody\n")


def test_oversized_article_is_rejected_with_sizes():
    source = "# Big\n\n" + "x" * MAX_ARTICLE_CHARS
    with pytest.raises(ArticleFormatError, match="the limit is 300,000"):
        parse_article(source)


# -- line endings, BOM, idempotence ---------------------------------------------------------


def test_crlf_and_cr_line_endings_parse_like_lf():
    lf = parse_article(seed_text())
    crlf = parse_article(seed_text().replace("\n", "\r\n"))
    cr = parse_article(seed_text().replace("\n", "\r"))
    assert crlf == lf
    assert cr == lf
    assert "\r" not in crlf.body_markdown


def test_byte_order_mark_is_ignored():
    assert parse_article("\ufeff" + seed_text()) == parse_article(seed_text())


def test_reparsing_gives_the_same_hash_and_edits_change_it():
    first = parse_article(seed_text())
    again = parse_article(seed_text())
    assert first.content_hash == again.content_hash
    edited = parse_article(seed_text().replace("40 years", "49 years"))
    assert edited.content_hash != first.content_hash
    assert edited.title == first.title


def test_hash_is_of_the_normalized_text():
    decomposed = "# Cafe\u0301\n\nUn cafe\u0301.\n"
    composed = "# Caf\u00e9\n\nUn caf\u00e9.\n"
    assert parse_article(decomposed) == parse_article(composed)
    assert parse_article(decomposed).title == "Café"
    assert unicodedata.is_normalized("NFC", parse_article(decomposed).body_markdown)


# -- title, byline, date, source URL --------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "title"),
    [
        ("# Plain title", "Plain title"),
        ("#   Spaced   ", "Spaced"),
        ("# Closed title ##", "Closed title"),
        ("# Learning C#", "Learning C#"),
        ("# Why 2 \\* 3 = 6", "Why 2 * 3 = 6"),
        ("# The \\(Op-Ed\\) piece", "The (Op-Ed) piece"),
        ("# **Bold** and [linked](#) words", "Bold and linked words"),
        ("# snake_case_name stays", "snake_case_name stays"),
        ("# Ben &amp; Jerry's `code`", "Ben & Jerry's code"),
    ],
)
def test_title_markdown_becomes_plain_text(line, title):
    assert parse_article(f"\n\n{line}\n\nbody\n").title == title


def test_byline_with_several_people():
    article = parse_article("# T\n\nBy [Ann Lee](#) and *Bo Chen*\n\nbody\n")
    assert article.byline == "Ann Lee and Bo Chen"
    assert article.body_markdown == "body\n"


def test_first_paragraph_starting_with_by_is_not_a_byline():
    source = "# T\n\nBy the time we arrived, the square was empty.\n\nSecond paragraph.\n"
    article = parse_article(source)
    assert article.byline is None
    assert canonical(article.body_markdown) == (
        "By the time we arrived, the square was empty.\n\nSecond paragraph."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("July 27, 2018", date(2018, 7, 27)),
        ("Jul 27, 2018", date(2018, 7, 27)),
        ("27 July 2018", date(2018, 7, 27)),
        ("2018-07-27", date(2018, 7, 27)),
        ("*July  27,   2018*", date(2018, 7, 27)),
        ("Yesterday", None),
        ("July 32, 2018", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_no_date_line_keeps_the_first_paragraph():
    article = parse_article("# T\n\nBy Ann\n\nFirst paragraph.\n")
    assert article.published is None and article.published_text is None
    assert article.body_markdown == "First paragraph.\n"


def test_original_url_on_the_same_line():
    article = parse_article("# T\n\nbody\n\nOriginal URL: https://example.org/a?b=c\n")
    assert article.source_url == "https://example.org/a?b=c"
    assert article.body_markdown == "body\n"


def test_original_url_followed_by_more_text_stays_in_the_body():
    source = "# T\n\nbody\n\nOriginal url: <https://example.org/a>\n\nA postscript.\n"
    article = parse_article(source)
    assert article.source_url is None
    assert "A postscript." in article.body_markdown
    assert "Original url" in article.body_markdown


def test_original_url_that_is_not_a_url_stays_in_the_body():
    article = parse_article("# T\n\nbody\n\nOriginal url: see the print edition\n")
    assert article.source_url is None
    assert article.body_markdown.endswith("Original url: see the print edition\n")


def test_inline_to_plain():
    assert inline_to_plain("  [a](#) **b** _c_ \\[d\\] ") == "a b c [d]"
    assert inline_to_plain("2 < 3 & <b>raw</b>") == "2 < 3 & <b>raw</b>"


# -- slugs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        (
            "Russian Military Needed in Syria Long Term, Assad Says",
            "russian-military-needed-in-syria-long-term-assad-says",
        ),
        ("Привет, мир!", "привет-мир"),
        ("مَرْحَبًا بِالعَالَم", "مَرْحَبًا-بِالعَالَم"),  # harakat stay inside their word
        ("हिन्दी भाषा", "हिन्दी-भाषा"),  # vowel signs stay inside their word
        ("日本語のタイトル", "日本語のタイトル"),
        ("Ünïcödé Straße", "ünïcödé-strasse"),
        ("  --Hello__World--  ", "hello__world"),
        ("🎉🎉🎉", "article"),
        ("", "article"),
    ],
)
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_slugify_is_bounded_and_clean():
    slug = slugify("word " * 100)
    assert len(slug) <= 80
    assert not slug.startswith("-") and not slug.endswith("-")
    assert slugify("Ab Cd", max_length=3) == "ab"
