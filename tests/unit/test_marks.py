"""Highlights rendered by the server: spans with offsets, marks that never nest or cross tags.

Every test parses the rendered HTML back and checks it against the canonical text, so a
mark in the wrong place, a wrong `data-o`, a wrong look or a lost character fails loudly.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

from webapp.text.document import BLOCK_SEPARATOR, Layout, build_layout
from webapp.text.importer import parse_article
from webapp.text.marks import (
    MAX_DEPTH_CLASS,
    Highlight,
    cover,
    coverage,
    draw_covered,
    heat_of,
    render_block,
    render_layout,
)
from webapp.text.sanitize import render_article

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_959b789aad009a97.txt"
VOID = {"br", "hr", "img"}


@dataclass
class Mark:
    start: int  # canonical offset of its first character
    text: str
    at: int
    classes: tuple[str, ...]
    parents: tuple[str, ...]  # the open elements around it, outermost first
    span: int  # the index of its span in the walk

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass
class Span:
    offset: int  # its data-o
    first: int | None = None  # canonical offset of its first character
    text: str = ""


@dataclass
class Walk:
    text: str = ""
    marks: list[Mark] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)
    block_starts: dict[str, int] = field(default_factory=dict)
    block_data_start: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    highlights: list[Highlight] = field(default_factory=list)


class _Walker(HTMLParser):
    """Rebuild the canonical text from rendered blocks, recording spans and marks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.walk = Walk()
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.in_block: str | None = None
        self.block_depth = 0
        self.mark: Mark | None = None
        self.span: Span | None = None

    # -- helpers
    def _error(self, message: str) -> None:
        self.walk.errors.append(f"{message} (at {self.getpos()}, stack {self._tags()})")

    def _tags(self) -> list[str]:
        return [tag for tag, _ in self.stack]

    def _append(self, text: str) -> None:
        self.walk.text += text

    # -- parser callbacks
    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if self.mark is not None:
            self._error(f"<{tag}> inside a <mark>")
        if tag in VOID:
            if tag == "br":
                if self.in_block is None:
                    self._error("<br> outside a block")
                if self.span is not None:
                    self._error("<br> inside a span")
                self._append("\n")
            return
        block_id = attrs.get("id", "")
        if block_id.startswith("block-"):
            if self.in_block is not None:
                self._error(f"block {block_id} inside block {self.in_block}")
            if self.walk.block_starts:
                self._append(BLOCK_SEPARATOR)
            self.in_block = block_id
            self.block_depth = len(self.stack)
            self.walk.block_starts[block_id] = len(self.walk.text)
            self.walk.block_data_start[block_id] = int(attrs["data-start"])
        elif tag == "span":
            if self.span is not None:
                self._error("a span inside a span")
            if self.in_block is None:
                self._error("a span outside a block")
            self.span = Span(int(attrs["data-o"]))
            self.walk.spans.append(self.span)
        elif tag == "mark":
            if any(open_tag == "mark" for open_tag, _ in self.stack):
                self._error("a mark inside a mark")
            if self.span is None:
                self._error("a mark outside a span")
            self.mark = Mark(
                start=len(self.walk.text),
                text="",
                at=int(attrs["data-at"]),
                classes=tuple(attrs.get("class", "").split()),
                parents=tuple(self._tags()),
                span=len(self.walk.spans) - 1,
            )
        self.stack.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1][0] != tag:
            self._error(f"</{tag}> does not close the innermost open element")
            return
        _, attrs = self.stack.pop()
        if tag == "mark" and self.mark is not None:
            if not self.mark.text:
                self._error("an empty mark")
            self.walk.marks.append(self.mark)
            self.mark = None
        elif tag == "span":
            if self.span is not None and not self.span.text:
                self._error("an empty span")
            self.span = None
        elif attrs.get("id", "").startswith("block-"):
            self.in_block = None

    def handle_data(self, data):
        if self.in_block is None:
            if data.strip():
                self._error(f"text {data!r} outside the blocks")
            return
        if self.span is None:
            self._error(f"text {data!r} outside a span")
        else:
            if self.span.first is None:
                self.span.first = len(self.walk.text)
            self.span.text += data
        if self.mark is not None:
            self.mark.text += data
        self._append(data)


def walk(html: str, highlights: list[Highlight] = ()) -> Walk:
    """Parse rendered HTML (the highlights drawn are kept with it, for marks_of)."""
    walker = _Walker()
    walker.feed(html)
    walker.close()
    if walker.stack:
        walker._error("unclosed elements at the end")
    walker.walk.highlights = list(highlights)
    return walker.walk


def covering(highlights: list[Highlight], position: int) -> set[int]:
    """The notes at a character: those the reader gets for a click on it."""
    return {h.id for h in highlights if h.start <= position < h.end}


def look_at(highlights: list[Highlight], position: int, heat: bool) -> tuple[str, ...]:
    """How the character at `position` is drawn, worked out on its own: the classes of
    the mark it must be in."""
    cover = [h for h in highlights if h.start <= position < h.end]
    depth = min(len(cover), MAX_DEPTH_CLASS)
    own = [h for h in cover if h.own or not heat]
    if not own:
        return ("hl", "hl-others", f"depth-{depth}", f"heat-{heat_of(len(cover))}")
    top = min(own, key=lambda h: (h.end - h.start, h.id))  # the innermost on top
    return ("hl", f"hl-{top.colour}", f"depth-{depth}", *(("own",) if heat else ()))


def assert_rendering(
    layout: Layout, highlights: list[Highlight], html: str | None = None, heat: bool = False
) -> Walk:
    """Every invariant of the rendered article, checked against the canonical text."""
    html = render_layout(layout, highlights, heat=heat) if html is None else html
    result = walk(html, highlights)
    assert result.errors == []
    text = layout.text
    # Nothing lost, nothing added, nothing mis-escaped.
    assert result.text == text
    # Blocks: stable ids in order, data-start is the offset of the block's text.
    assert list(result.block_starts) == [block.id for block in layout.blocks]
    for block in layout.blocks:
        assert result.block_starts[block.id] == block.start
        assert result.block_data_start[block.id] == block.start
    # Spans: data-o is the canonical offset of the span's first character.
    for span in result.spans:
        assert span.first == span.offset, span
        assert text[span.offset : span.offset + len(span.text)] == span.text
    span_offsets = {span.offset for span in result.spans}
    for block in layout.blocks:
        for sentence in block.sentences:
            if text[sentence] != "\n":
                assert sentence in span_offsets, f"no span starts the sentence at {sentence}"
    # Marks: each one inside a single run (never crosses an element), every character in
    # it highlighted and drawn as the mark says; two marks side by side in a span differ.
    runs = [run for block in layout.blocks for run in block.runs]
    marked: set[int] = set()
    for mark in result.marks:
        assert mark.at == mark.start, mark
        assert text[mark.start : mark.end] == mark.text
        assert "mark" not in mark.parents
        assert any(run.start <= mark.start and mark.end <= run.end for run in runs), mark
        for position in range(mark.start, mark.end):
            assert position not in marked, f"position {position} is in two marks"
            marked.add(position)
            assert covering(highlights, position), (position, mark)
            assert mark.classes == look_at(highlights, position, heat), (position, mark)
    for before, after in zip(result.marks, result.marks[1:], strict=False):
        if before.end == after.start and before.span == after.span:
            assert before.classes != after.classes, f"{before} and {after} draw alike"
    # Every highlighted character of the text is inside a mark (separators and <br> aside).
    for block in layout.blocks:
        for run in block.runs:
            if run.is_break:
                continue
            for position in range(run.start, run.end):
                if covering(highlights, position):
                    assert position in marked, f"highlighted position {position} not marked"
    return result


def highlight_of(result: Walk, annotation_id: int) -> Highlight:
    return next(h for h in result.highlights if h.id == annotation_id)


def marks_of(result: Walk, annotation_id: int) -> list[Mark]:
    """The marks on a note's passage (some may reach beyond it, into text drawn alike)."""
    h = highlight_of(result, annotation_id)
    return [mark for mark in result.marks if mark.start < h.end and h.start < mark.end]


def text_of(result: Walk, annotation_id: int) -> str:
    """The note's text as marked: the characters of its passage inside marks."""
    h = highlight_of(result, annotation_id)
    return "".join(
        mark.text[max(h.start - mark.start, 0) : h.end - mark.start]
        for mark in marks_of(result, annotation_id)
    )


def seed_layout() -> Layout:
    article = parse_article(SEED.read_text(encoding="utf-8"))
    return build_layout(render_article(article.body_markdown))


def span_of(text: str, phrase: str, occurrence: int = 0) -> tuple[int, int]:
    starts = [m.start() for m in re.finditer(re.escape(phrase), text)]
    start = starts[occurrence]
    return start, start + len(phrase)


# -- basic rendering ------------------------------------------------------------------------


def test_no_highlights_gives_spans_and_no_marks():
    layout = seed_layout()
    html = render_layout(layout, [])
    result = assert_rendering(layout, [], html)
    assert result.marks == []
    assert "<mark" not in html
    assert len(result.spans) >= len(layout.blocks)


def test_single_highlight_is_one_mark_with_depth_1_and_colour():
    layout = build_layout("<p>The quick brown fox jumps.</p>")
    start, end = span_of(layout.text, "quick brown")
    highlights = [Highlight(7, start, end, "green")]
    result = assert_rendering(layout, highlights)
    assert [m.text for m in result.marks] == ["quick brown"]
    assert result.marks[0].classes == ("hl", "hl-green", "depth-1")


def test_text_is_escaped_inside_and_outside_marks():
    layout = build_layout("<p>a &lt;b&gt; &amp; &quot;c&quot; &lt;script&gt;</p>")
    assert layout.text == 'a <b> & "c" <script>'
    html = render_layout(layout, [Highlight(1, 2, 5)])
    assert "<b>" not in html and "<script>" not in html
    result = assert_rendering(layout, [Highlight(1, 2, 5)], html)
    assert text_of(result, 1) == "<b>"


def test_colour_is_escaped():
    layout = build_layout("<p>hello</p>")
    html = render_layout(layout, [Highlight(1, 0, 5, 'x" onclick="alert(1)')])
    assert 'onclick="' not in html
    mark = re.search(r"<mark ([^>]*)>", html)
    assert mark is not None
    assert re.findall(r'([\w-]+)="', mark.group(1)) == ["data-at", "class"]


# -- overlaps, nesting, adjacency -----------------------------------------------------------


def test_overlapping_highlights_share_a_depth_2_piece():
    layout = build_layout("<p>one two three four five</p>")
    text = layout.text
    a = Highlight(1, *span_of(text, "one two three"))
    b = Highlight(2, *span_of(text, "three four"))
    result = assert_rendering(layout, [a, b])
    pieces = [(m.text, m.classes[-1]) for m in result.marks]
    assert pieces == [("one two ", "depth-1"), ("three", "depth-2"), (" four", "depth-1")]
    assert text_of(result, 1) == "one two three"
    assert text_of(result, 2) == "three four"


def test_overlap_depth_counts_every_highlight_whatever_the_input_order():
    layout = build_layout("<p>abcdefghij</p>")
    highlights = [Highlight(30, 2, 8), Highlight(4, 0, 5), Highlight(12, 4, 10)]
    result = assert_rendering(layout, highlights)
    assert [(m.text, m.classes[-1]) for m in result.marks] == [
        ("ab", "depth-1"),
        ("cd", "depth-2"),
        ("e", "depth-3"),
        ("fgh", "depth-2"),
        ("ij", "depth-1"),
    ]


def test_depth_class_is_capped():
    layout = build_layout("<p>abcdefghij</p>")
    highlights = [Highlight(i, 0, 10) for i in range(1, 8)]
    result = assert_rendering(layout, highlights)
    assert [m.text for m in result.marks] == ["abcdefghij"]
    assert result.marks[0].classes[-1] == f"depth-{MAX_DEPTH_CLASS}"


def test_nested_highlight_splits_the_outer_one():
    layout = build_layout("<p>outer before inner part outer after</p>")
    text = layout.text
    outer = Highlight(1, 0, len(text), "yellow")
    inner = Highlight(2, *span_of(text, "inner part"), "blue")
    result = assert_rendering(layout, [outer, inner])
    assert [(m.text, m.classes[-1]) for m in result.marks] == [
        ("outer before ", "depth-1"),
        ("inner part", "depth-2"),
        (" outer after", "depth-1"),
    ]
    # The innermost (shortest) highlight's colour shows on the overlap.
    assert "hl-blue" in result.marks[1].classes
    assert "hl-yellow" in result.marks[0].classes
    assert text_of(result, 1) == text


def test_adjacent_highlights_that_draw_alike_are_one_mark():
    layout = build_layout("<p>first second</p>")
    text = layout.text
    boundary = text.index(" second")
    a = Highlight(1, 0, boundary)
    b = Highlight(2, boundary, len(text))
    result = assert_rendering(layout, [a, b])
    assert [(m.text, m.at) for m in result.marks] == [("first second", 0)]
    # The notes at each character stay apart: a click on " second" asks for note 2 only.
    assert covering([a, b], boundary) == {2}


def test_adjacent_highlights_that_draw_differently_stay_apart():
    layout = build_layout("<p>first second</p>")
    boundary = layout.text.index(" second")
    highlights = [Highlight(1, 0, boundary, "pink"), Highlight(2, boundary, 12, "blue")]
    result = assert_rendering(layout, highlights)
    assert [(m.text, m.at) for m in result.marks] == [("first", 0), (" second", boundary)]


def test_a_busy_passage_is_one_mark_per_look_not_per_note():
    # 39 notes starting and ending at 12 places: under nine or more the tint is the same.
    layout = build_layout("<p>one two three four five six seven</p>")
    others = [Highlight(i, i % 5, 20 + i % 7, own=False) for i in range(1, 40)]
    html = render_layout(layout, others, heat=True)
    result = assert_rendering(layout, others, html, heat=True)
    assert [(m.text, m.classes[-1]) for m in result.marks] == [
        ("o", "heat-4"),
        ("ne two three four five s", "heat-5"),
        ("i", "heat-4"),
    ]


def test_identical_ranges_make_one_mark():
    layout = build_layout("<p>same words</p>")
    result = assert_rendering(layout, [Highlight(5, 0, 4), Highlight(3, 0, 4)])
    assert [(m.text, m.classes[-1]) for m in result.marks] == [("same", "depth-2")]


# -- element boundaries ---------------------------------------------------------------------


def test_highlight_across_strong_and_link_is_cut_at_each_element():
    layout = build_layout(
        '<p>Read <strong>the bold</strong> part and <a href="https://example.org/x">'
        "this link</a> today.</p>"
    )
    text = layout.text
    assert text == "Read the bold part and this link today."
    start = text.index("bold")
    end = text.index("link") + len("link")
    result = assert_rendering(layout, [Highlight(9, start, end)])
    assert [(m.text, m.parents[-2:]) for m in result.marks] == [
        ("bold", ("strong", "span")),
        (" part and ", ("p", "span")),
        ("this link", ("a", "span")),
    ]
    assert text_of(result, 9) == text[start:end]


def test_highlight_inside_nested_inline_elements():
    layout = build_layout("<p>x <em>a <strong>b c</strong> d</em> y</p>")
    text = layout.text
    assert text == "x a b c d y"
    result = assert_rendering(layout, [Highlight(1, 2, 9)])
    assert [
        (m.text, tuple(t for t in m.parents if t in {"em", "strong"})) for m in result.marks
    ] == [
        ("a ", ("em",)),
        ("b c", ("em", "strong")),
        (" d", ("em",)),
    ]


def test_adjacent_elements_of_the_same_tag_stay_separate():
    layout = build_layout("<p><em>one</em><em>two</em></p>")
    html = render_layout(layout, [Highlight(1, 0, 6)])
    result = assert_rendering(layout, [Highlight(1, 0, 6)], html)
    assert [m.text for m in result.marks] == ["one", "two"]
    assert html.count("<em>") == 2


def test_highlight_spanning_two_blocks_is_cut_at_the_block_boundary():
    layout = build_layout("<p>First paragraph ends here.</p><p>Second one starts.</p>")
    text = layout.text
    start = text.index("ends")
    end = text.index("Second") + len("Second")
    result = assert_rendering(layout, [Highlight(4, start, end)])
    assert [m.text for m in result.marks] == ["ends here.", "Second"]
    assert text_of(result, 4) == text[start:end].replace(BLOCK_SEPARATOR, "")


def test_highlight_across_a_line_break_leaves_the_br_outside_marks():
    layout = build_layout("<p>line one<br>line two</p>")
    assert layout.text == "line one\nline two"
    html = render_layout(layout, [Highlight(1, 5, 13)])
    result = assert_rendering(layout, [Highlight(1, 5, 13)], html)
    assert [m.text for m in result.marks] == ["one", "line"]
    assert re.search(r"<mark[^>]*>[^<]*<br", html) is None


def test_highlight_over_whole_list_and_quote_structure():
    html = (
        "<ul><li>alpha<ul><li>beta</li><li>gamma</li></ul></li></ul>"
        "<blockquote><p>quoted</p><blockquote><p>deeper</p></blockquote></blockquote>"
    )
    layout = build_layout(html)
    highlights = [Highlight(1, 0, len(layout.text)), Highlight(2, 3, layout.text.index("deep") + 2)]
    result = assert_rendering(layout, highlights)
    assert text_of(result, 1) == "alphabetagammaquoteddeeper"


def test_dead_links_have_no_href_and_stay_selectable():
    layout = seed_layout()
    html = render_layout(layout, [])
    assert 'href="#"' not in html
    assert '<a draggable="false" class="dead-link">' in html


def test_real_links_open_safely():
    layout = build_layout('<p><a href="https://example.org/">site</a></p>')
    html = render_layout(layout, [])
    assert (
        '<a href="https://example.org/" draggable="false" rel="noopener nofollow" target="_blank">'
    ) in html


# -- offsets and non-BMP characters ---------------------------------------------------------


NON_BMP = "<p>Party 🎉 now, claps 👏🏽 and 𝔐 math.</p><p>More 🎉 <em>𝔐𝔐</em> 👏🏽 end.</p>"


def test_non_bmp_characters_count_as_code_points():
    layout = build_layout(NON_BMP)
    text = layout.text
    assert text.index("🎉") == 6
    assert text[text.index("👏🏽") : text.index("👏🏽") + 2] == "👏🏽"  # two code points
    result = assert_rendering(layout, [])
    second = layout.blocks[1]
    assert result.block_starts[second.id] == text.index("More")


@pytest.mark.parametrize(
    ("phrase", "occurrence"),
    [("🎉", 0), ("🎉 now", 0), ("👏🏽", 0), ("👏🏽", 1), ("𝔐 math", 0), ("🎉 𝔐𝔐 👏", 0), ("𝔐", 2)],
)
def test_marks_with_non_bmp_characters_cover_exactly_the_range(phrase, occurrence):
    layout = build_layout(NON_BMP)
    start, end = span_of(layout.text, phrase, occurrence)
    result = assert_rendering(layout, [Highlight(1, start, end)])
    assert text_of(result, 1) == layout.text[start:end] == phrase


def test_highlight_between_the_code_points_of_an_emoji_with_modifier():
    # 👏🏽 is two code points; a range may end between them (the browser cannot, but
    # stored offsets are code points, so rendering must still be lossless).
    layout = build_layout("<p>a👏🏽b</p>")
    result = assert_rendering(layout, [Highlight(1, 1, 2), Highlight(2, 2, 4)])
    assert text_of(result, 1) == "👏"
    assert text_of(result, 2) == "🏽b"


def test_span_offsets_follow_sentences_and_elements():
    layout = build_layout("<p>One. Two <em>three</em>. Four!</p>")
    result = assert_rendering(layout, [])
    assert [(s.offset, s.text) for s in result.spans] == [
        (0, "One. "),
        (5, "Two "),
        (9, "three"),
        (14, ". "),
        (16, "Four!"),
    ]


def test_rtl_and_mixed_text_keep_offsets():
    layout = build_layout("<p>قال الرئيس: «القوات الروسية ضرورية». English <em>مرحبا</em> end.</p>")
    text = layout.text
    start, end = span_of(text, "الروسية ضرورية». English مر")
    result = assert_rendering(layout, [Highlight(1, start, end)])
    assert text_of(result, 1) == text[start:end]
    assert ' dir="auto"' in render_layout(layout, [])


# -- blocks rendered one at a time (partials) -----------------------------------------------


def test_render_block_matches_the_block_in_the_full_page():
    layout = seed_layout()
    text = layout.text
    highlights = [
        Highlight(1, *span_of(text, "Interfax news agency cited Assad", 0)),
        Highlight(2, *span_of(text, "Related article: The Growing Risks")),
    ]
    page = render_layout(layout, highlights)
    for block in layout.blocks:
        assert render_block(block, highlights) in page


def test_render_block_ignores_highlights_of_other_blocks():
    layout = seed_layout()
    first, second = layout.blocks[0], layout.blocks[1]
    elsewhere = Highlight(1, second.start + 2, second.start + 9)
    assert "<mark" not in render_block(first, [elsewhere])
    assert render_block(first, [elsewhere]) == render_block(first, [])
    assert render_block(first, [], (("class", "flash"),)).startswith(
        '<p id="block-0" data-start="0" dir="auto" class="flash">'
    )


def test_empty_and_reversed_ranges_render_nothing():
    layout = build_layout("<p>abc def</p>")
    for highlight in (Highlight(1, 3, 3), Highlight(2, 5, 2), Highlight(3, 100, 120)):
        result = assert_rendering(layout, [highlight])
        assert result.marks == []


# -- the property test ----------------------------------------------------------------------


RICH = (
    "<h2>Tïtle with 𝔐</h2>"
    "<p>Plain <strong>bold <em>both</em></strong> and "
    '<a href="https://example.org">a link</a> then <a href="#">dead</a>. Mr. Smith spoke. '
    "Next 🎉 and 👏🏽.</p>"
    "<ul><li>item one<ul><li>nested <code>code</code></li></ul></li><li>two</li></ul>"
    "<blockquote><p>quote<br>second line</p></blockquote>"
    "<pre><code>keep   spaces\n  here</code></pre>"
    "<table><tr><th>h</th><td>cell <em>x</em></td><td></td></tr></table>"
    "<p>e\u0301 composed, مرحبا بالعالم. 你好。世界！</p>"
)


def _random_highlights(rng: random.Random, length: int, count: int) -> list[Highlight]:
    colours = ["yellow", "green", "blue", "pink"]
    highlights = []
    for number in range(1, count + 1):
        start = rng.randrange(0, length)
        if rng.random() < 0.5:
            end = rng.randint(start + 1, min(length, start + 40))
        else:
            end = rng.randint(start + 1, length)
        highlights.append(Highlight(number, start, end, rng.choice(colours)))
    return highlights


@pytest.mark.parametrize("source", ["seed", "rich"])
def test_random_ranges_keep_every_invariant(source):
    layout = seed_layout() if source == "seed" else build_layout(RICH)
    rng = random.Random(20180727)
    length = len(layout.text)
    for _ in range(150):
        highlights = _random_highlights(rng, length, rng.randint(1, 6))
        result = assert_rendering(layout, highlights)
        for highlight in highlights:
            expected = "".join(
                layout.text[max(run.start, highlight.start) : min(run.end, highlight.end)]
                for block in layout.blocks
                for run in block.runs
                if not run.is_break
            )
            assert text_of(result, highlight.id) == expected


@pytest.mark.parametrize("heat", [True, False])
def test_random_busy_passages_keep_every_invariant(heat):
    """A class's busy passage: hundreds of notes over a few sentences, others' and a few of
    one's own, nested, equal and touching."""
    layout = build_layout(RICH)
    rng = random.Random(1109)
    length = len(layout.text)
    for _ in range(40):
        lo = rng.randrange(0, length - 30)
        hi = min(length, lo + rng.randint(5, 120))
        highlights = []
        for number in range(1, rng.choice([2, 30, 300]) + 1):
            start = rng.randint(lo, hi - 1)
            end = rng.randint(start + 1, hi) if rng.random() < 0.9 else length
            if highlights and rng.random() < 0.2:  # stacked on an earlier one's passage
                start, end = rng.choice(highlights)[1:3]
            own = number % 4 == 0 or rng.random() < (0.05 if heat else 1)
            colour = rng.choice(["yellow", "green", "blue", "pink"])
            highlights.append(Highlight(number, start, end, colour, own))
        rng.shuffle(highlights)  # (made in any order: the first made is the smallest id)
        assert_rendering(layout, highlights, heat=heat)


def test_a_coverage_grown_one_highlight_at_a_time_draws_as_the_highlights_at_once():
    """A shared view keeps a block's coverage and adds each new note to it (cover): the
    block drawn from it (draw_covered) is render_block's, whatever was added in which
    order, touching, nested, equal or running past the block."""
    layout = build_layout(RICH)
    rng = random.Random(1111)
    blocks = [block for block in layout.blocks if block.end - block.start > 4]
    for _ in range(60):
        block = rng.choice(blocks)
        lo, hi = block.start, block.end
        highlights = []
        for number in range(1, rng.choice([1, 5, 40, 200]) + 1):
            start = rng.randint(max(0, lo - 3), hi - 1)
            end = rng.randint(max(start, lo) + 1, hi + 3)
            if highlights and rng.random() < 0.3:  # stacked on an earlier one's passage
                start, end = rng.choice(highlights)[1:3]
            # (every third more often one's own: some of one's own stacked, too)
            own = rng.random() < 0.1 if number % 3 else rng.random() < 0.6
            colour = rng.choice(["yellow", "green", "blue", "pink"])
            highlights.append(Highlight(number, start, end, colour, own))
        rng.shuffle(highlights)  # (made in any order: the first made is the smallest id)
        kept = rng.randint(0, len(highlights))
        points, counts = coverage(block, highlights[:kept])
        for h in highlights[kept:]:
            cover(block, points, counts, h.start, h.end)
        assert (points, counts) == coverage(block, highlights)
        mine = [h for h in highlights if h.own]
        assert draw_covered(block, points, counts, mine) == render_block(
            block, highlights, heat=True
        )


def test_random_single_ranges_inside_one_run_are_one_exact_mark():
    layout = seed_layout()
    rng = random.Random(7)
    runs = [run for block in layout.blocks for run in block.runs if len(run.text) > 2]
    for _ in range(300):
        run = rng.choice(runs)
        start = rng.randrange(run.start, run.end - 1)
        end = rng.randint(start + 1, run.end)
        result = assert_rendering(layout, [Highlight(1, start, end)])
        assert text_of(result, 1) == layout.text[start:end]
        block = next(b for b in layout.blocks if b.start <= start < b.end)
        cuts = [s for s in block.sentences if start < s < end]
        assert len(marks_of(result, 1)) == len(cuts) + 1


# -- a class view: one's own in colour, others' as a heat map -----------------------------------


def test_heat_shows_others_as_one_tint_deepening_with_their_count():
    layout = build_layout("<p>one two three four five six</p>")
    text = layout.text
    others = [Highlight(i, 0, len(text), "pink", own=False) for i in range(1, 10)]
    others.append(Highlight(10, *span_of(text, "three four"), "blue", own=False))
    mine = Highlight(20, *span_of(text, "five"), "green")
    html = render_layout(layout, [*others, mine], heat=True)
    result = assert_rendering(layout, [*others, mine], html, heat=True)
    looks = [(m.text, m.classes) for m in result.marks]
    # Nine notes or ten draw alike (the deepest tint): one mark up to one's own note.
    assert looks == [
        ("one two three four ", ("hl", "hl-others", f"depth-{MAX_DEPTH_CLASS}", "heat-5")),
        ("five", ("hl", "hl-green", f"depth-{MAX_DEPTH_CLASS}", "own")),
        (" six", ("hl", "hl-others", f"depth-{MAX_DEPTH_CLASS}", "heat-5")),
    ]
    # No colour of anyone else's leaks into a class view.
    assert "hl-pink" not in html and "hl-blue" not in html


def test_heat_steps_follow_the_count_of_others():
    layout = build_layout("<p>abcdefghij</p>")
    # 1 note on a, 2 on b, 3 on c, 4 on d, 5 on e, 9 on f (each spot its own count).
    counts = {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 9}
    highlights = []
    number = 0
    for letter, count in counts.items():
        at = layout.text.index(letter)
        for _ in range(count):
            number += 1
            highlights.append(Highlight(number, at, at + 1, own=False))
    html = render_layout(layout, highlights, heat=True)
    result = assert_rendering(layout, highlights, html, heat=True)
    heat = {m.text: m.classes[-1] for m in result.marks}
    assert heat == {
        "a": "heat-1",
        "b": "heat-2",
        "c": "heat-3",
        "d": "heat-3",
        "e": "heat-4",
        "f": "heat-5",
    }


def test_without_heat_every_highlight_keeps_its_colour():
    layout = build_layout("<p>one two</p>")
    html = render_layout(layout, [Highlight(1, 0, 3, "pink", own=False)])
    assert 'class="hl hl-pink depth-1"' in html


def test_mark_weight_does_not_grow_with_depth():
    layout = build_layout("<p>a short passage of text</p>")
    shallow = render_layout(layout, [Highlight(1, 0, 7)])
    deep = render_layout(layout, [Highlight(i, 0, 7) for i in range(1, 500)])
    assert len(deep) - len(shallow) <= 2  # only the depth class changes (depth-1 → depth-4)
