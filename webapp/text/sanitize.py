"""The one place that cleans HTML. Only what these functions return is ever marked safe."""

from __future__ import annotations

import re
from collections.abc import Container
from functools import partial

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter

from webapp.text.markdown import MEDIA_PREFIX, article_to_html, comment_to_html

ARTICLE_TAGS = frozenset(
    {
        "p",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "blockquote",
        "ul",
        "ol",
        "li",
        "pre",
        "code",
        "hr",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "a",
        "sup",
        "sub",
        "s",
        "del",
        "ins",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "figure",
        "figcaption",
        "img",
    }
)
ARTICLE_ATTRIBUTES = {
    "a": ["href", "title"],
    "ol": ["start"],
    "th": ["align"],
    "td": ["align"],
    "img": ["src", "alt"],
}
# The only images an article shows: the app's own copies (see webapp/media).
MEDIA_SRC = re.compile(re.escape(MEDIA_PREFIX) + r"[0-9a-f]{64}")

COMMENT_TAGS = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "b",
        "i",
        "a",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "del",
        "s",
        "sup",
        "sub",
        "hr",
    }
)
COMMENT_ATTRIBUTES = {"a": ["href", "title", "rel", "target"], "ol": ["start"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
UGC_REL = "nofollow noopener ugc"


def _mark_user_link(attrs: dict, new: bool = False) -> dict | None:
    href = attrs.get((None, "href"), "")
    if not href:
        return attrs
    attrs[(None, "rel")] = UGC_REL
    attrs[(None, "target")] = "_blank"
    return attrs


class _OwnImagesOnly(Filter):
    """Drop every image that is not one of the app's copies: no third-party loads."""

    def __iter__(self):
        for token in super().__iter__():
            if token.get("name") == "img" and token["type"] in {"StartTag", "EmptyTag"}:
                src = (token.get("data") or {}).get((None, "src"), "")
                if not MEDIA_SRC.fullmatch(src):
                    continue
            yield token


_article_cleaner = bleach.Cleaner(
    tags=ARTICLE_TAGS,
    attributes=ARTICLE_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[_OwnImagesOnly],
)
_comment_cleaner = bleach.Cleaner(
    tags=COMMENT_TAGS,
    attributes=COMMENT_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[partial(LinkifyFilter, callbacks=[_mark_user_link], skip_tags={"pre", "code"})],
)


def clean_article_html(html: str) -> str:
    """Clean rendered article HTML against the article allowlist."""
    return _article_cleaner.clean(html)


def render_article(markdown: str, assets: Container[str] = frozenset()) -> str:
    """Render and clean an article; `assets` are the image digests it may show."""
    return clean_article_html(article_to_html(markdown, assets))


def render_comment(markdown: str) -> str:
    """Render a comment's Markdown and clean it; links get rel="nofollow noopener ugc"."""
    return _comment_cleaner.clean(comment_to_html(markdown)).strip()
