"""The one place that cleans HTML. Only what these functions return is ever marked safe.

Text passes through exactly once: the parser decodes the HTML's character references into
text, and the serializer escapes that text again. (bleach's own clean() and linkify keep
entity-like text as entities: "&amp;lt;" came out as "&lt;", which a browser shows as "<".)
"""

from __future__ import annotations

import re
from collections.abc import Container
from functools import partial
from urllib.parse import urlsplit

import bleach
from bleach import html5lib_shim
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter, build_url_re
from bleach.sanitizer import (
    INVISIBLE_CHARACTERS_RE,
    INVISIBLE_REPLACEMENT_CHAR,
    BleachSanitizerFilter,
)

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


# Bare URLs become links only with an allowlisted scheme, or with none (then http). A
# domain right after some other scheme ("ftp://", "data:", "ssh://") stays text: linking
# just its host part would point somewhere else than what was written.
_AFTER_OTHER_SCHEME = r"(?<!:)(?<!:/)(?<!://)(?<!:///)"
_ALLOWED_SCHEME_HERE = "(?=(?:{}):)".format("|".join(sorted(ALLOWED_PROTOCOLS)))
_BARE_URL = build_url_re(protocols=ALLOWED_PROTOCOLS)
BARE_URL = re.compile(
    f"(?:{_ALLOWED_SCHEME_HERE}|{_AFTER_OTHER_SCHEME})" + _BARE_URL.pattern, _BARE_URL.flags
)


def _mark_user_link(attrs: dict, new: bool = False) -> dict | None:
    """rel="nofollow noopener ugc" on every link; a link without an allowed href (the
    sanitizer dropped it) becomes its text."""
    href = attrs.get((None, "href"), "")
    scheme = urlsplit(href).scheme.lower() if href else ""
    if not href or (scheme and scheme not in ALLOWED_PROTOCOLS):
        return None
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


class _TextSanitizer(BleachSanitizerFilter):
    """bleach's sanitizer on text that is already text: no entity is looked for in it."""

    def sanitize_characters(self, token):
        data = token.get("data", "")
        if data:
            token["data"] = INVISIBLE_CHARACTERS_RE.sub(INVISIBLE_REPLACEMENT_CHAR, data)
        return token


class _TextLinkifier(LinkifyFilter):
    """bleach's linkifier on text that is already text: no entity is looked for in it."""

    def extract_entities(self, token):
        yield token


class _Cleaner(bleach.Cleaner):
    """bleach.Cleaner whose parser decodes character references once, into text, and whose
    serializer escapes text and attribute values as they are."""

    def __init__(self, **options) -> None:
        super().__init__(**options)
        self.parser = html5lib_shim.BleachHTMLParser(
            tags=self.tags, strip=self.strip, consume_entities=True, namespaceHTMLElements=False
        )
        self.serializer = html5lib_shim.HTMLSerializer(
            quote_attr_values="always",
            omit_optional_tags=False,
            escape_lt_in_attrs=True,
            resolve_entities=False,
            sanitize=False,
            alphabetical_attributes=False,
        )

    def clean(self, text: str) -> str:
        if not text:
            return ""
        filtered = _TextSanitizer(
            source=self.walker(self.parser.parseFragment(text)),
            allowed_tags=self.tags,
            attributes=self.attributes,
            strip_disallowed_tags=self.strip,
            strip_html_comments=self.strip_comments,
            allowed_protocols=self.protocols,
        )
        for filter_class in self.filters:
            filtered = filter_class(source=filtered)
        return self.serializer.render(filtered)


_article_cleaner = _Cleaner(
    tags=ARTICLE_TAGS,
    attributes=ARTICLE_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[_OwnImagesOnly],
)
_comment_cleaner = _Cleaner(
    tags=COMMENT_TAGS,
    attributes=COMMENT_ATTRIBUTES,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    filters=[
        partial(
            _TextLinkifier,
            callbacks=[_mark_user_link],
            skip_tags={"pre", "code"},
            url_re=BARE_URL,
        )
    ],
)


def clean_article_html(html: str) -> str:
    """Clean rendered article HTML against the article allowlist."""
    return _article_cleaner.clean(html)


def render_article(markdown: str, assets: Container[str] = frozenset()) -> str:
    """Render and clean an article; `assets` are the image digests it may show."""
    return clean_article_html(article_to_html(markdown, assets))


def render_comment(markdown: str) -> str:
    """Render a comment's Markdown and clean it; links get rel="nofollow noopener ugc"."""
    html = comment_to_html(markdown)
    if _already_clean(html):
        return html.strip()
    return _comment_cleaner.clean(html).strip()


# Markdown's HTML that cleaning gives back as it is: paragraphs, emphasis and text with no
# character reference (markdown-it writes &, <, >, " as references: a text with none has
# none of them), no control or non-character code point (the parser may replace those)
# and nothing the linkifier would make a link of. Most comments are plain prose like this;
# cleaning one costs more than the rest of the write's text handling together.
_PLAIN_HTML = re.compile(
    r"(?:[^<&\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]"
    r"|</?(?:p|em|strong)>)*"
)
_TAG = re.compile(r"<[^>]*>")


def _already_clean(html: str) -> bool:
    return _PLAIN_HTML.fullmatch(html) is not None and not any(
        BARE_URL.search(text) for text in _TAG.split(html)
    )


# --- plain text --------------------------------------------------------------------------

# C0 control characters but tab, line feed and carriage return, and DEL: they mean nothing
# in a name, a comment or a reason, cannot be seen to be removed, and PostgreSQL refuses NUL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def drop_control_characters(text: str) -> str:
    """Text without control characters (tab and line breaks stay)."""
    return CONTROL_CHARACTERS.sub("", text)
