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
    return _comment.render(markdown)


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
