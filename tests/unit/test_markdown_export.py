"""Markdown export: quotes escaped so they render as the article's words; replies nested."""

from __future__ import annotations

import html
import re
from datetime import datetime

import pytest
from markdown_it import MarkdownIt

from webapp.models import Annotation, AnnotationTag, Reply, User
from webapp.services.exports import ExportedNote, escape_markdown, notes_markdown, quoted


def rendered_text(markdown: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", MarkdownIt().render(markdown))).strip()


@pytest.mark.parametrize(
    "text",
    [
        "a *b* _c_ [x](y) <b>",
        "# not a heading",
        "1. not a list",
        "- not a list",
        "> not a quote",
        "AT&T &copy; &#169;",
        "back\\slash `code`",
        "a|b ~~s~~ ![i](j)",
        "2) two",
        "===",
    ],
)
def test_escaped_text_renders_as_itself(text):
    assert rendered_text(escape_markdown(text)) == text


def test_quoted_prefixes_every_line():
    assert quoted("a\n\nb", 2) == "> > a\n> >\n> > b"


def test_notes_markdown_of_hand_built_notes():
    ann, ben = User(username="ann"), User(username="ben")
    moment = datetime(2026, 11, 25, 6, 40)
    note = Annotation(
        id=7,
        exact="Russian *forces*",
        body_markdown="Why?",
        author=ann,
        created_at=moment,
        version_id=1,
        is_question=True,
        answered_at=moment,
        hidden=False,
    )
    note.tags = [AnnotationTag(name="war")]
    answer = Reply(body_markdown="Line one\nline two", author=ben, created_at=moment)
    orphan = Annotation(
        id=8,
        exact="gone",
        body_markdown="",
        author=ann,
        created_at=moment,
        version_id=None,
        is_question=False,
        hidden=False,
    )
    text = notes_markdown(
        title="A *title*",
        byline="Someone",
        article_url="http://x/articles/a",
        scope="My notes",
        exported_by="ann",
        exported_at=moment,
        notes=[ExportedNote(1, note, [(answer, 0)]), ExportedNote(2, orphan)],
        link_for=lambda a: f"http://x/articles/a#annotation-{a.id}",
    )
    assert text.startswith("# Notes on “A \\*title\\*”\n")
    assert "> Russian \\*forces\\*" in text
    assert "Tags: #war  \nQuestion, answered  \nBy ann · Only me · 2026-11-25 06:40 UTC  \n" in text
    assert "[Open it in the article](http://x/articles/a#annotation-7)" in text
    assert "> **ben** · 2026-11-25 06:40 UTC\n>\n> Line one\n> line two" in text
    assert "No longer in the text" in text.split("## Note 2")[1]
    assert "annotation-8" not in text
