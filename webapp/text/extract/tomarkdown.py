"""HTML (from Word, from a web page) and plain text to the article's CommonMark.

The HTML side uses markdownify with our rules: links only to http(s) and mailto (relative
ones resolved against the page's address, in-page anchors kept as text), images only as
`![alt](asset:<digest>)` on a line of their own, a figure's caption on the line after its
image, and text escaped so that it renders as the same text.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from markdownify import MarkdownConverter

from webapp.text.markdown import asset_digest

# Characters that start inline Markdown anywhere, and what starts a block at a line's start.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINE_START = re.compile(r"(^|\n)([ \t]*)([#=+~-]|\d{1,9}(?=[.)]))", re.M)
_LINK_SCHEMES = {"http", "https", "mailto"}


def escape_text(text: str) -> str:
    """Text that renders as itself: no emphasis, link, heading, list or HTML is made."""
    text = _INLINE_SPECIAL.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    return _LINE_START.sub(_escape_line_start, text)


def _escape_line_start(match: re.Match) -> str:
    start, space, marker = match.groups()
    if marker[0].isdigit():
        return f"{start}{space}{marker}\\"  # "1." -> "1\.": the backslash escapes the dot
    return f"{start}{space}\\{marker}"


def plain_paragraph(lines: list[str]) -> str:
    """A paragraph of plain text as Markdown: each line escaped, none indented."""
    return "\n".join(escape_text(line.strip()) for line in lines)


def safe_link(href: str | None, base_url: str | None) -> str | None:
    """An absolute http(s) or mailto address, or None (in-page anchors, scripts, ...)."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return None
    if base_url:
        try:
            href = urljoin(base_url, href)
        except ValueError:
            return None
    try:
        scheme = urlsplit(href).scheme.lower()
    except ValueError:
        return None
    if scheme not in _LINK_SCHEMES:
        return None
    return href


def _destination(url: str) -> str:
    """A link destination CommonMark reads back unchanged."""
    url = url.replace("<", "%3C").replace(">", "%3E").replace("\n", "")
    if re.search(r"[\s()]", url):
        return f"<{url}>"
    return url


def _escape_alt(alt: str) -> str:
    return escape_text(" ".join(alt.split()))


class _ArticleConverter(MarkdownConverter):
    class Options(MarkdownConverter.DefaultOptions):
        heading_style = "atx"
        bullets = "-"
        newline_style = "backslash"
        strong_em_symbol = "*"
        escape_misc = False
        base_url = None

    def escape(self, text, parent_tags):
        return escape_text(text) if text else ""

    def convert_a(self, el, text, parent_tags):
        href = safe_link(el.get("href"), self.options["base_url"])
        prefix, suffix, inner = _chomp(text)
        if not inner or not href or "_noformat" in parent_tags:
            return text
        return f"{prefix}[{inner}]({_destination(href)}){suffix}"

    def convert_img(self, el, text, parent_tags):
        digest = asset_digest(el.get("src") or "")
        if digest is None or parent_tags & {"a", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th"}:
            return ""
        return f"\n\n![{_escape_alt(el.get('alt') or '')}](asset:{digest})\n\n"

    def convert_figure(self, el, text, parent_tags):
        image = el.find("img")
        digest = asset_digest(image.get("src") or "") if image is not None else None
        caption = el.find("figcaption")
        caption_text = ""
        if caption is not None:
            caption_text = " ".join(
                self.process_tag(caption, parent_tags | {"_inline"}).replace("\\\n", " ").split()
            )
        if digest is None:
            return f"\n\n{caption_text}\n\n" if caption_text else ""
        markdown = f"![{_escape_alt(image.get('alt') or '')}](asset:{digest})"
        if caption_text:
            markdown += "\n" + caption_text
        return f"\n\n{markdown}\n\n"

    def convert_figcaption(self, el, text, parent_tags):
        return f"\n\n{text.strip()}\n\n" if text.strip() else ""

    def convert_plain(self, el, text, parent_tags):
        return text

    # Strikethrough, underline, marks: the article renderer has no syntax for them.
    convert_del = convert_s = convert_strike = convert_u = convert_ins = convert_plain
    convert_mark = convert_small = convert_span = convert_plain


def _chomp(text: str) -> tuple[str, str, str]:
    stripped = text.strip()
    if not stripped:
        return "", "", ""
    prefix = " " if text[:1].isspace() else ""
    suffix = " " if text[-1:].isspace() else ""
    return prefix, suffix, stripped


def html_to_markdown(html: str, base_url: str | None = None) -> str:
    """CommonMark for an HTML body whose images already point at `asset:<digest>`."""
    markdown = _ArticleConverter(base_url=base_url).convert(html)
    markdown = re.sub(r"\n{3,}", "\n\n", markdown).strip()
    return markdown + "\n" if markdown else ""
