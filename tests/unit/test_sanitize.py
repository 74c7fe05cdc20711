"""The one place that cleans HTML: article bodies and comments."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from webapp.text.sanitize import (
    ALLOWED_PROTOCOLS,
    ARTICLE_ATTRIBUTES,
    ARTICLE_TAGS,
    COMMENT_ATTRIBUTES,
    COMMENT_TAGS,
    UGC_REL,
    clean_article_html,
    render_article,
    render_comment,
)


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text = ""

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text += data


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.elements


def text_of(html: str) -> str:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.text


def links(html: str) -> list[dict[str, str]]:
    return [attrs for tag, attrs in elements(html) if tag == "a"]


def assert_within(html: str, tags, attributes) -> None:
    """Only allowlisted tags and attributes, and only allowed URL schemes."""
    for tag, attrs in elements(html):
        assert tag in tags, f"<{tag}> is not allowed: {html}"
        for name, value in attrs.items():
            assert name in attributes.get(tag, ()), f"{tag}[{name}] is not allowed: {html}"
            assert not name.startswith("on")
            if name == "href":
                scheme = urlsplit(value).scheme
                assert scheme == "" or scheme in ALLOWED_PROTOCOLS, value


HOSTILE_HTML = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<p onclick="alert(1)" onmouseover="alert(2)">click</p>',
    '<a href="javascript:alert(1)">js</a>',
    '<a href="JaVaScRiPt:alert(1)">js</a>',
    '<a href=" javascript:alert(1)">js</a>',
    '<a href="jav&#x09;ascript:alert(1)">js</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<p style="background:url(javascript:alert(1))">styled</p>',
    '<iframe src="https://evil.example/"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    "<svg><script>alert(1)</script></svg>",
    '<svg onload="alert(1)"></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<form action="https://evil.example"><input name=x><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<base href="https://evil.example/">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>body{display:none}</style>",
    '<div class="x" id="y" data-x="z">div</div>',
    "<!-- comment --><p>after comment</p>",
    '<a href="https://ok.example/" target="_top" rel="opener">ok</a>',
]


# -- article HTML ---------------------------------------------------------------------------


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_article_cleaner_keeps_only_the_allowlist(html):
    cleaned = clean_article_html(html)
    assert_within(cleaned, ARTICLE_TAGS, ARTICLE_ATTRIBUTES)
    lowered = cleaned.lower()
    for forbidden in ("<script", "<iframe", "<object", "<embed", "<svg", "<style", "<form"):
        assert forbidden not in lowered
    assert "javascript:" not in "".join(attrs.get("href", "") for _, attrs in elements(cleaned))


def test_article_cleaner_removes_script_style_iframe_and_handlers():
    html = (
        '<p onclick="steal()" style="color:red">Hello<script>alert(1)</script>'
        '<iframe src="https://evil.example"></iframe> <a href="javascript:alert(1)">js</a>'
        ' <a href="https://ok.example/">ok</a></p>'
    )
    cleaned = clean_article_html(html)
    assert elements(cleaned) == [("p", {}), ("a", {}), ("a", {"href": "https://ok.example/"})]
    assert "onclick" not in cleaned and "style" not in cleaned and "iframe" not in cleaned


def test_article_cleaner_keeps_the_allowlisted_structure():
    html = (
        "<h2>Head</h2><p><strong>b</strong> <em>i</em> <b>b</b> <i>i</i> <sup>1</sup> <sub>2</sub>"
        " <s>s</s> <del>d</del> <ins>n</ins> <code>c</code><br></p>"
        '<blockquote><p>q</p></blockquote><ol start="3"><li>x</li></ol><ul><li>y</li></ul>'
        "<pre><code>p</code></pre><hr>"
        '<table><thead><tr><th align="left">h</th></tr></thead>'
        '<tbody><tr><td align="right">d</td></tr></tbody></table>'
        '<p><a href="https://example.org/a" title="T">l</a> <a href="mailto:a@example.org">m</a>'
        ' <a href="#">dead</a></p>'
    )
    cleaned = clean_article_html(html)
    assert cleaned == html
    assert_within(cleaned, ARTICLE_TAGS, ARTICLE_ATTRIBUTES)


def test_article_cleaner_drops_unknown_tags_but_keeps_their_text():
    cleaned = clean_article_html(
        '<div class="c"><p><span style="x">kept</span> <font>too</font></p></div>'
    )
    assert cleaned == "<p>kept too</p>"


def test_article_markdown_with_raw_html_is_escaped():
    markdown = (
        "<script>alert(1)</script>\n\nText <b onclick=x>bold</b> and "
        '<iframe src="https://evil.example"></iframe>\n\n[js](javascript:alert(1))\n'
    )
    html = render_article(markdown)
    assert [tag for tag, _ in elements(html)] == ["p", "p", "p"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b onclick=x&gt;bold&lt;/b&gt;" in html
    assert "[js](javascript:alert(1))" in html  # not a link at all
    assert text_of(html).startswith("<script>alert(1)</script>")


def test_article_markdown_renders_tables_and_dead_links():
    html = render_article("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee [this](#).\n")
    assert [tag for tag, _ in elements(html)][:2] == ["table", "thead"]
    assert links(html) == [{"href": "#"}]


# -- comments -------------------------------------------------------------------------------


@pytest.mark.parametrize("html", HOSTILE_HTML)
def test_comment_raw_html_is_shown_as_text(html):
    rendered = render_comment(html)
    assert_within(rendered, COMMENT_TAGS, COMMENT_ATTRIBUTES)
    for forbidden in ("<script", "<iframe", "<img", "<svg", "<style", "<form", "<meta", "<base"):
        assert forbidden not in rendered.lower()


@pytest.mark.parametrize(
    "markdown",
    [
        "[x](javascript:alert(1))",
        "[x](JAVASCRIPT:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox)",
        "<javascript:alert(1)>",
        "[x](java&#x09;script:alert(1))",
        "[x](ftp://files.example/)",
        "javascript:alert(1)",
    ],
)
def test_comment_links_never_get_a_dangerous_href(markdown):
    rendered = render_comment(markdown)
    assert_within(rendered, COMMENT_TAGS, COMMENT_ATTRIBUTES)
    for link in links(rendered):
        scheme = urlsplit(link.get("href", "")).scheme
        assert scheme in {"", "http", "https", "mailto"}
        assert "javascript" not in link.get("href", "").lower()


def test_comment_links_get_ugc_rel():
    rendered = render_comment(
        'See [the source](https://example.org/a "Source") and <https://b.example/>.'
    )
    assert links(rendered) == [
        {
            "href": "https://example.org/a",
            "title": "Source",
            "rel": UGC_REL,
            "target": "_blank",
        },
        {"href": "https://b.example/", "rel": UGC_REL, "target": "_blank"},
    ]
    assert UGC_REL == "nofollow noopener ugc"


def test_bare_urls_in_comments_become_ugc_links():
    rendered = render_comment("read https://example.org/page?x=1 and www.example.com today")
    hrefs = [(link["href"], link["rel"]) for link in links(rendered)]
    assert hrefs == [
        ("https://example.org/page?x=1", UGC_REL),
        ("http://www.example.com", UGC_REL),
    ]


def test_urls_in_code_are_not_linkified():
    assert links(render_comment("`https://example.org`")) == []
    assert links(render_comment("    https://example.org\n")) == []


def test_comment_formatting_survives():
    rendered = render_comment("**bold** and *em*\n\n> quoted\n\n- one\n- two\n\n1. first\n\n`code`")
    tags = [tag for tag, _ in elements(rendered)]
    for tag in ("strong", "em", "blockquote", "ul", "li", "ol", "code"):
        assert tag in tags
    assert_within(rendered, COMMENT_TAGS, COMMENT_ATTRIBUTES)


def test_comment_line_breaks_are_kept():
    assert render_comment("line one\nline two") == "<p>line one<br>\nline two</p>"


def test_comment_is_stripped_and_empty_stays_empty():
    assert render_comment("  hello  \n\n") == "<p>hello</p>"
    assert render_comment("") == ""


def test_comment_with_non_latin_text_and_emoji():
    rendered = render_comment("مرحبا 👏🏽 — Привет 𝔐 & <3")
    assert text_of(rendered) == "مرحبا 👏🏽 — Привет 𝔐 & <3"
    assert "&lt;3" in rendered


# -- links obey the scheme allowlist ------------------------------------------------------


@pytest.mark.parametrize(
    "markdown",
    [
        "data://example.com/,alert(1)",
        "ftp://files.example.org/report.pdf",
        "ssh://host.example.com",
        "telnet://example.com:23",
        "sftp://user@files.example.org/x",
        "ftp:files.example.org",
        "<ftp://files.example.org/x>",
        "[x](ftp://files.example.org/x)",
    ],
)
def test_urls_with_other_schemes_stay_text(markdown):
    """Neither the whole URL nor its host part becomes a link: the text stays as written."""
    rendered = render_comment(markdown)
    assert links(rendered) == []
    assert "<a" not in rendered
    if not markdown.startswith("["):
        assert text_of(rendered) == markdown.strip("<>")


def test_allowlisted_schemes_still_become_links_next_to_other_text():
    rendered = render_comment(
        "see:https://example.org/a, mailto:someone@example.org and ftp://x.example.org"
    )
    assert [link["href"] for link in links(rendered)] == [
        "https://example.org/a",
        "mailto:someone@example.org",
    ]
    assert text_of(rendered).endswith("and ftp://x.example.org")


# -- text fidelity: a comment shows what CommonMark makes of it ---------------------------------

# (Markdown, the HTML CommonMark gives for it.) Entities are decoded once, by Markdown,
# except in code spans and blocks and autolinks; what a browser shows is that text.
COMMONMARK = [
    ("&amp;lt;b&amp;gt;", "<p>&amp;lt;b&amp;gt;</p>"),
    ("&lt;b&gt;bold?&lt;/b&gt;", "<p>&lt;b&gt;bold?&lt;/b&gt;</p>"),
    ("&amp;amp; &amp;quot;", "<p>&amp;amp; &amp;quot;</p>"),
    ("&#38;lt; and &#x26;gt;", "<p>&amp;lt; and &amp;gt;</p>"),
    ("\\&lt; \\&amp;", "<p>&amp;lt; &amp;amp;</p>"),
    ("\\\\&lt;", "<p>\\&lt;</p>"),
    ("&copy; &#169; &#xA9; &MadeUp;", "<p>© © © &amp;MadeUp;</p>"),
    ("<b>&amp;</b>", "<p>&lt;b&gt;&amp;&lt;/b&gt;</p>"),
    ("*&amp;* **&lt;i&gt;**", "<p><em>&amp;</em> <strong>&lt;i&gt;</strong></p>"),
    ("`<b> & &amp; </b>`", "<p><code>&lt;b&gt; &amp; &amp;amp; &lt;/b&gt;</code></p>"),
    ("``a ` &lt; b``", "<p><code>a ` &amp;lt; b</code></p>"),
    (
        "```\n<b>&amp;</b> & >\n```",
        "<pre><code>&lt;b&gt;&amp;amp;&lt;/b&gt; &amp; &gt;\n</code></pre>",
    ),
    (
        "<https://example.com/?a=1&b=2>",
        '<p><a href="https://example.com/?a=1&amp;b=2">https://example.com/?a=1&amp;b=2</a></p>',
    ),
    (
        "<https://example.com/?q=&lt;>",
        '<p><a href="https://example.com/?q=&amp;lt;">https://example.com/?q=&amp;lt;</a></p>',
    ),
    (
        '[a &amp; b](https://example.com/?x=1&amp;y=2 "t &quot;q&quot;")',
        '<p><a href="https://example.com/?x=1&amp;y=2" title="t &quot;q&quot;">a &amp; b</a></p>',
    ),
]


class _Events(HTMLParser):
    """What a browser makes of some HTML: elements with their attributes, and text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple] = []

    def handle_starttag(self, tag, attrs):
        kept = sorted((n, v) for n, v in attrs if n not in ("rel", "target"))
        self.events.append(("start", tag, tuple(kept)))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_data(self, data):
        if self.events and self.events[-1][0] == "text":
            data = self.events.pop()[1] + data
        self.events.append(("text", data))


def displayed(html: str) -> list[tuple]:
    parser = _Events()
    parser.feed(html.strip())
    parser.close()
    return parser.events


@pytest.mark.parametrize(("markdown", "expected"), COMMONMARK)
def test_comment_shows_exactly_what_commonmark_makes_of_it(markdown, expected):
    assert displayed(render_comment(markdown)) == displayed(expected)


def test_double_escaped_entities_show_as_typed():
    """The reported case: the text "&lt;b&gt;" stays visible, never a "<b>"."""
    rendered = render_comment("&amp;lt;b&amp;gt;")
    assert text_of(rendered) == "&lt;b&gt;"
    assert rendered == "<p>&amp;lt;b&amp;gt;</p>"


@pytest.mark.parametrize("html", [expected for _, expected in COMMONMARK])
def test_cleaning_html_keeps_its_text(html):
    """The cleaner reads character references once and writes the same text back."""
    assert displayed(clean_article_html(html)) == displayed(html)


def test_article_text_is_decoded_once_too():
    html = render_article("Write &amp;lt;b&amp;gt; for a bold tag, and AT&amp;T.\n")
    assert text_of(html).strip() == "Write &lt;b&gt; for a bold tag, and AT&T."


def test_a_plain_comment_skips_cleaning_and_comes_out_as_cleaning_gives_it():
    """render_comment leaves plain prose (paragraphs, emphasis) as markdown wrote it: the
    same HTML the cleaner gives, for every comment it does so for."""
    import random

    from webapp.text.markdown import comment_to_html
    from webapp.text.sanitize import _already_clean, _comment_cleaner

    rng = random.Random(11)
    pieces = [
        "word", "Ünï", "*", "**", "_", "~~", " ", "\n", "\n\n", "'", '"', "&", "<", ">",
        "&amp;", "<b>", "http://a.example/x", "example.com", "www.x.org", "a@b.org", ":",
        "/", ".", "#", "1.", "- ", "> ", "`", "[x](http://y.example)", "\ufdd0", "\x85",
        "é", "漢字", "😀", "\t", "\\", "&#65;", "javascript:x", "mailto:a@b.c",
    ]  # fmt: skip
    plain = 0
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        html = comment_to_html(text)
        if _already_clean(html):
            plain += 1
            assert render_comment(text) == _comment_cleaner.clean(html).strip(), text
    assert plain > 300  # the fast path is taken, not only its refusals tested
    assert render_comment("Why *this* passage?") == "<p>Why <em>this</em> passage?</p>"
    assert 'rel="nofollow' in render_comment("see example.com now")
    assert "&lt;b&gt;" in render_comment("<b>bold</b>")
