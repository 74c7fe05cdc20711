"""Markdown to HTML with markdown-it-py. Raw HTML in the source is escaped, never passed on.

Images in an article are figures outside its text: a paragraph that starts with
`![alt](asset:<sha256>)` becomes `<figure>` with the image served by the app and the rest of
the paragraph (the line after the image) as its `<figcaption>`. Every other image, and an
asset the caller does not know, is dropped: readers never load third-party content.
"""

from __future__ import annotations

import re
from collections.abc import Container

from markdown_it import MarkdownIt
from markdown_it.token import Token

_article = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
_comment = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")

ASSET_SCHEME = "asset:"
MEDIA_PREFIX = "/media/"
DIGEST = re.compile(r"[0-9a-f]{64}")


def asset_digest(src: str) -> str | None:
    """The digest an `asset:<sha256>` image source names, or None."""
    if src.startswith(ASSET_SCHEME) and DIGEST.fullmatch(digest := src[len(ASSET_SCHEME) :]):
        return digest
    return None


def article_to_html(markdown: str, assets: Container[str] = frozenset()) -> str:
    """Render an article; `assets` are the image digests it may show as figures."""
    tokens = _article.parse(markdown)
    _make_figures(tokens, assets)
    return _article.renderer.render(tokens, _article.options, {})


def comment_to_html(markdown: str) -> str:
    if _PLAIN_LINE.fullmatch(markdown):
        return _plain_line_html(markdown)
    return _comment.render(markdown)


# A comment of one line of words, punctuation and single words in *emphasis* or **strong
# emphasis**, spaced by single spaces (most comments), drawn as markdown-it draws it without
# running it (three times as long as the rest of a note's text handling). Why the same:
# - no block starts: one line (no indent: the comment is stripped) beginning with a letter
#   or an emphasis, so no heading, quote, list item, thematic break, fence or HTML block;
# - no inline construct but emphasis: none of ` \ [ ] < > & ~ _ # | = + " or a line break
#   (code spans, escapes, links and images, autolinks and HTML, entities, strikethrough,
#   underscore emphasis, breaks; a "!" is text without a "["); linkify and typographer are off;
# - each `*`s pair wraps one word, opened after the start or a space and closed before the
#   end, a space or one punctuation mark (then the end or a space): a left-flanking run
#   that opens and a right-flanking one of the same length that closes it, and no other;
# - the rest is text markdown-it writes as it is: it escapes only & < > ", none of which is
#   there. tests/unit/test_markdown_fast.py checks it against markdown-it.
_WORD = r"[A-Za-z0-9]+"
_TEXT = r"[A-Za-z0-9,.;:!?'()/-]+"
_EMPHASIS = rf"(?:\*{_WORD}\*|\*\*{_WORD}\*\*)[,.;:!?]?"
_TOKEN = rf"(?:{_EMPHASIS}|{_TEXT})"
_PLAIN_LINE = re.compile(rf"(?=[A-Za-z*]){_TOKEN}(?: {_TOKEN})*")
_STRONG = re.compile(rf"\*\*({_WORD})\*\*")
_EM = re.compile(rf"\*({_WORD})\*")


def _plain_line_html(line: str) -> str:
    html = _EM.sub(r"<em>\1</em>", _STRONG.sub(r"<strong>\1</strong>", line))
    return f"<p>{html}</p>\n"


def _make_figures(tokens: list[Token], assets: Container[str]) -> None:
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        opening = tokens[index - 1] if index else None
        first = children[0]
        digest = asset_digest(first.attrGet("src") or "") if first.type == "image" else None
        if opening is not None and opening.type == "paragraph_open" and digest in assets:
            closing = tokens[index + 1]
            opening.tag = closing.tag = "figure"
            opening.hidden = closing.hidden = False  # a figure shows even in a tight list
            first.attrSet("src", MEDIA_PREFIX + digest)
            caption = _strip_leading_breaks(children[1:])
            token.children = [first]
            if caption:
                token.children += [
                    _html("<figcaption>"),
                    *_drop_images(caption),
                    _html("</figcaption>"),
                ]
        else:
            token.children = _drop_images(children)


def _strip_leading_breaks(children: list[Token]) -> list[Token]:
    while children and (
        children[0].type in {"softbreak", "hardbreak"}
        or (children[0].type == "text" and not children[0].content.strip())
    ):
        children = children[1:]
    return children


def _drop_images(children: list[Token]) -> list[Token]:
    return [child for child in children if child.type != "image"]


def _html(markup: str) -> Token:
    """Markup we write ourselves (never the source's: its raw HTML is escaped)."""
    return Token("html_inline", "", 0, content=markup)
