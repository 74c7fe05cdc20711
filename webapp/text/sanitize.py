"""The one place that cleans HTML. Only what these functions return is ever marked safe."""

from __future__ import annotations

import re
from functools import partial

import bleach
from bleach.linkifier import LinkifyFilter

from webapp.text.markdown import article_to_html, comment_to_html

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
    }
)
ARTICLE_ATTRIBUTES = {"a": ["href", "title"], "ol": ["start"], "th": ["align"], "td": ["align"]}

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


_article_cleaner = bleach.Cleaner(
    tags=ARTICLE_TAGS, attributes=ARTICLE_ATTRIBUTES, protocols=ALLOWED_PROTOCOLS, strip=True
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


def render_article(markdown: str) -> str:
    return clean_article_html(article_to_html(markdown))


def render_comment(markdown: str) -> str:
    """Render a comment's Markdown and clean it; links get rel="nofollow noopener ugc"."""
    return _comment_cleaner.clean(comment_to_html(markdown)).strip()


# --- plain text --------------------------------------------------------------------------

# C0 control characters but tab, line feed and carriage return, and DEL: they mean nothing
# in a name, a comment or a reason, cannot be seen to be removed, and PostgreSQL refuses NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def drop_control_characters(text: str) -> str:
    """Text without control characters (tab and line breaks stay)."""
    return CONTROL_CHARACTERS.sub("", text)
