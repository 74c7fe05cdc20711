"""Markdown to HTML with markdown-it-py. Raw HTML in the source is escaped, never passed on."""

from __future__ import annotations

from markdown_it import MarkdownIt

_article = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")
_comment = MarkdownIt("commonmark", {"html": False, "breaks": True}).enable("strikethrough")


def article_to_html(markdown: str) -> str:
    return _article.render(markdown)


def comment_to_html(markdown: str) -> str:
    return _comment.render(markdown)
