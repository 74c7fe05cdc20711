"""Render a layout as HTML with offset spans and highlight marks.

Text is cut at every element boundary, sentence boundary and highlight boundary. Each
piece of text sits in a `<span data-o="OFFSET">` inside its inline elements; highlighted
text sits in `<mark>`s that say how to draw it and where it is, never which notes cover
it (the page's weight must not grow with the depth of overlaps). Pieces next to each other
that draw alike are one mark: a busy passage is cut at every note's start and end, and one
mark per piece made a class page of thousands of notes thousands of elements to parse,
style, lay out and paint, for a tint that does not change from one to the next.

- `data-at`: the offset of its first character. A reader asks for the notes at the
  character they click (data-at plus the characters before it in the mark): the notes
  with start <= at < end. Within one mark they may differ; how they look does not.
- `depth-N`: how many highlights cover it (capped), for overlaps drawn darker;
- one's own highlights keep their colour (`hl-COLOUR`, the innermost one's on top);
  with `heat`, others' are one neutral tint deepening with their count (`hl-others
  heat-N`); without it (one's private notes) every highlight shows its own colour.

Marks never cross an element boundary or a sentence's span, and never nest. Rendering
sweeps the boundaries in order, keeping counts of what covers the current piece:
near-linear in the text's length plus the number of boundaries. A block's HTML is a
function of the block and of the highlights overlapping it, so it is kept (a bounded cache
per process) and drawn again only when those change: a reload, or another reader of the
same class, redraws nothing.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from functools import partial
from html import escape
from operator import itemgetter, sub
from typing import NamedTuple

from webapp.text.document import Block, CloseTag, Inline, Layout, OpenTag, VoidTag

MAX_DEPTH_CLASS = 4
# Others' notes on a spot, as heat steps: 1, 2, 3-4, 5-8, 9 or more.
HEAT_STEPS = (1, 2, 3, 5, 9)


class Highlight(NamedTuple):
    """A tuple: thousands are made per page, and they key the cache of rendered blocks."""

    id: int
    start: int
    end: int
    colour: str = "yellow"
    own: bool = True


def heat_of(count: int) -> int:
    """The heat step (1-5) of a spot covered by `count` of others' notes."""
    return bisect_right(HEAT_STEPS, count)


def _attrs(attrs: tuple[tuple[str, str], ...]) -> str:
    return "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attrs)


def _open_inline(inline: Inline) -> str:
    extra: tuple[tuple[str, str], ...] = ()
    if inline.tag == "a":
        # Links must stay selectable: a drag starting on one selects instead of dragging.
        extra = (("draggable", "false"),)
        if dict(inline.attrs).get("href"):
            extra += (("rel", "noopener nofollow"), ("target", "_blank"))
        else:
            extra += (("class", "dead-link"),)
    return f"<{inline.tag}{_attrs(inline.attrs + extra)}>"


def _looks(block: Block, relevant: tuple[Highlight, ...], heat: bool):
    """The block cut at its highlights' edges: the offsets where the pieces begin (the
    block's start first) and the class of each piece's mark (None: nothing covers it).
    Pieces next to each other that look alike are one piece (they would be one mark).

    A busy passage of a class has hundreds of notes over a few hundred characters, most
    of them others' (with `heat`): how many notes cover each edge is found by bisecting
    the sorted starts and ends (no walk through the notes per edge), and a spot that none
    of one's own covers looks as its count says. Only the spots one's own notes cover
    (few) are looked at one by one, for the innermost one's colour."""
    points, counts = coverage(block, relevant)
    mine = [h for h in relevant if h.own] if heat else relevant
    return looks_of(points, counts, mine, heat)


def coverage(block: Block, relevant) -> tuple[list[int], list[int]]:
    """Where the highlights overlapping a block (`relevant`, none empty) begin or end in
    it, the block's start first, and how many of them cover the text from each of those
    points to the next."""
    block_start, block_end = block.start, block.end
    starts = sorted(map(_START, relevant))
    ends = sorted(map(_END, relevant))
    inside = set(starts[bisect_right(starts, block_start) : bisect_left(starts, block_end)])
    inside.update(ends[bisect_right(ends, block_start) : bisect_left(ends, block_end)])
    points = [block_start, *sorted(inside)]
    covering = map(
        sub, map(partial(bisect_right, starts), points), map(partial(bisect_right, ends), points)
    )
    return points, list(covering)


def cover(block: Block, points: list[int], counts: list[int], start: int, end: int) -> None:
    """Add a highlight from `start` to `end` overlapping the block (not empty) to its
    coverage (points, counts: coverage()), in place: as coverage() of them all would be."""
    for edge in (start, end):
        if block.start < edge < block.end:
            at = bisect_left(points, edge)
            if at == len(points) or points[at] != edge:
                points.insert(at, edge)
                counts.insert(at, counts[at - 1])
    first = bisect_right(points, start) - 1 if start > block.start else 0
    past = bisect_left(points, end) if end < block.end else len(points)
    counts[first:past] = [count + 1 for count in counts[first:past]]


def looks_of(points: list[int], counts: list[int], mine, heat: bool):
    """_looks from a block's coverage and one's own highlights over it (`mine`; with
    `heat`, only those are drawn in their colours; without, every highlight is)."""
    most = max(counts)
    # (Comprehensions: a third of the time of map() with a bound __getitem__ per point,
    # and a busy block has a thousand points.)
    table = _others_looks(most)
    if not mine:
        looks = [table[count] for count in counts]
    else:
        # A spot one's own notes cover shows the innermost one's colour (the shortest;
        # of two as long, the first made), deeper with the count: their colours painted
        # over the points they cover, outermost first, so that the innermost is last.
        # Of several over the same passage (a student's notes stacked on one sentence),
        # only the innermost paints: the others' points are all painted over by it.
        innermost: dict[tuple[int, int], Highlight] = {}
        for h in mine:
            passage = (h.start, h.end)
            found = innermost.get(passage)
            if found is None or h.id <= found.id:
                innermost[passage] = h
        colours: list[str | None] = [None] * len(points)
        for h in sorted(innermost.values(), key=_size_and_id, reverse=True):
            first, past = bisect_left(points, h.start), bisect_left(points, h.end)
            if first < past:
                colours[first:past] = [h.colour] * (past - first)
        tables = {c: _own_looks(c, heat, most) for c in set(colours) if c is not None}
        tables[None] = table
        looks = [tables[colour][count] for colour, count in zip(colours, counts, strict=True)]
    # Pieces next to each other that look alike are one.
    last = looks[0]
    starts, merged = [points[0]], [last]
    for at, look in zip(points, looks, strict=True):
        if look != last:
            starts.append(at)
            merged.append(look)
            last = look
    return starts, merged


_START, _END = itemgetter(1), itemgetter(2)  # of a Highlight


def _size_and_id(h: Highlight) -> tuple[int, int]:
    return (h.end - h.start, h.id)


def _own_looks(colour: str, heat: bool, most: int) -> tuple[str | None, ...]:
    """The looks of a spot whose innermost own note has this colour, by how many notes
    cover it (0 to `most`)."""
    looks = _OWN_LOOKS.get((colour, heat))
    if looks is None:
        looks = (None,) + tuple(
            f"hl hl-{escape(colour)} depth-{depth}" + (" own" if heat else "")
            for depth in range(1, MAX_DEPTH_CLASS + 1)
        )
        if len(_OWN_LOOKS) < 64:  # (the five colours)
            _OWN_LOOKS[(colour, heat)] = looks
    return looks + looks[-1:] * (most - MAX_DEPTH_CLASS) if most > MAX_DEPTH_CLASS else looks


_OWN_LOOKS: dict[tuple[str, bool], tuple[str | None, ...]] = {}


def _others_looks(most: int) -> tuple[str | None, ...]:
    """The looks of a spot that 0, 1, ... `most` notes cover, none of them one's own (None:
    no note), by count."""
    global _OTHERS_LOOKS
    if len(_OTHERS_LOOKS) <= most:
        _OTHERS_LOOKS = (None,) + tuple(
            f"hl hl-others depth-{min(n, MAX_DEPTH_CLASS)} heat-{heat_of(n)}"
            for n in range(1, 2 * most + 1)
        )
    return _OTHERS_LOOKS


_OTHERS_LOOKS: tuple[str | None, ...] = (None,)


def _mark(look: str, at: int, texts: list[str]) -> str:
    return f'<mark data-at="{at}" class="{look}">{"".join(texts)}</mark>'


class _Key:
    """A cache key whose hash is computed once: a busy block's key holds hundreds of
    highlights, and the cache hashes it on every look-up, removal and insertion."""

    __slots__ = ("key", "hash")

    def __init__(self, key: tuple) -> None:
        self.key = key
        self.hash = hash(key)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Key) and self.hash == other.hash and self.key == other.key


class _BlockCache:
    """Rendered blocks, least recently used first out, bounded by their total length.

    Keyed by the block object's identity (the entry holds the block, so the identity is
    not reused while the entry lives; layouts are cached per version, so a block object
    stands for one block of one version) and by everything else its HTML depends on."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self._entries: OrderedDict[_Key, tuple[Block, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _Key, block: Block) -> str | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] is not block:
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: _Key, block: Block, html: str) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.chars -= len(old[1])
            self._entries[key] = (block, html)
            self.chars += len(html)
            while self.chars > self.max_chars and self._entries:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.chars -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.chars = 0


_blocks = _BlockCache(max_chars=8_000_000)  # about 16 MB of str at most, per process


def render_block(
    block: Block,
    highlights: list[Highlight],
    extra_attrs: tuple[tuple[str, str], ...] = (),
    heat: bool = False,
) -> str:
    """One leaf block, with its stable id, spans and marks. `highlights` may hold others:
    only those overlapping the block are drawn."""
    start, end = block.start, block.end
    # (by index: a class's busy block has hundreds, and this is a tenth faster per note)
    relevant = tuple([h for h in highlights if (s := h[1]) < end and start < (e := h[2]) and s < e])
    key = _Key((id(block), heat, extra_attrs, relevant))
    html = _blocks.get(key, block)
    if html is None:
        html = _draw_block(block, relevant, extra_attrs, heat)
        _blocks.put(key, block, html)
    return html


def _draw_block(
    block: Block,
    relevant: tuple[Highlight, ...],
    extra_attrs: tuple[tuple[str, str], ...],
    heat: bool,
) -> str:
    """The block's HTML: its text cut at every element, sentence and highlight boundary.
    The elements and spans follow the runs and sentences (a few per block); between two
    of those boundaries the text is a row of pieces (hundreds in a class's busy passage),
    each drawn from the piece's class found by _looks, pieces side by side in a span
    that look alike in one mark."""
    return _draw(block, *_looks(block, relevant, heat), extra_attrs)


def draw_covered(
    block: Block,
    points: list[int],
    counts: list[int],
    mine: list[Highlight],
    extra_attrs: tuple[tuple[str, str], ...] = (),
) -> str:
    """render_block(heat=True) of a block given its highlights' coverage (coverage(),
    cover()) and one's own among them (`mine`): the same HTML, without a look at each of
    the others (a class's busy block has hundreds). Not kept in the cache."""
    return _draw(block, *looks_of(points, counts, mine, True), extra_attrs)


def _draw(block: Block, starts: list[int], looks: list, extra_attrs) -> str:
    """_draw_block's HTML, given the pieces' starts and looks (_looks)."""
    last = len(starts) - 1
    cuts = {block.start, block.end}
    cuts.update(s for s in block.sentences if block.start < s < block.end)
    for run in block.runs:
        cuts.update((run.start, run.end))
    points = sorted(cuts)

    attrs = (("id", block.id), ("data-start", str(block.start)), ("dir", "auto"))
    out = [f"<{block.tag}{_attrs(attrs + block.attrs + extra_attrs)}>"]
    append = out.append
    open_path: tuple[Inline, ...] = ()
    span_open = False
    sentence_starts = set(block.sentences)
    run_index = 0
    # The mark being drawn, open while the pieces after it in its span look alike: its
    # classes, its first offset, its text.
    mark_look: str | None = None
    mark_at = 0
    mark_text: list[str] = []
    for left, right in zip(points, points[1:], strict=False):
        while block.runs[run_index].end <= left:
            run_index += 1
        run = block.runs[run_index]
        path = run.path
        # Open and close inline elements to match this run's path.
        if path is open_path and span_open and not (left in sentence_starts or run.is_break):
            pass  # the same run as the piece before, in the same sentence
        else:
            if mark_look is not None:
                append(_mark(mark_look, mark_at, mark_text))
                mark_look = None
            if path is open_path:
                common = len(path)
            else:
                common = 0
                while common < min(len(open_path), len(path)) and open_path[common] == path[common]:
                    common += 1
            starts_sentence = left in sentence_starts
            if span_open and (
                common < len(open_path) or len(run.path) > common or starts_sentence or run.is_break
            ):
                append("</span>")
                span_open = False
            for inline in reversed(open_path[common:]):
                append(f"</{inline.tag}>")
            for inline in run.path[common:]:
                append(_open_inline(inline))
            open_path = run.path
            if run.is_break:
                append("<br>")
                continue
            if not span_open:
                append(f'<span data-o="{left}">')
                span_open = True
        # The text from left to right, one piece per stretch between highlight edges.
        text, offset = run.text, run.start
        i = bisect_right(starts, left) - 1
        at = left
        while True:
            end = starts[i + 1] if i < last else right
            if end > right:
                end = right
            piece = text[at - offset : end - offset]
            piece = piece.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            look = looks[i]
            if look is not None and look == mark_look:
                mark_text.append(piece)
            else:
                if mark_look is not None:
                    append(_mark(mark_look, mark_at, mark_text))
                if look is None:
                    mark_look = None
                    append(piece)
                else:
                    mark_look, mark_at, mark_text = look, at, [piece]
            if end == right:
                break
            at = end
            i += 1
    if mark_look is not None:
        append(_mark(mark_look, mark_at, mark_text))
    if span_open:
        append("</span>")
    for inline in reversed(open_path):
        append(f"</{inline.tag}>")
    append(f"</{block.tag}>")
    return "".join(out)


def render_layout(layout: Layout, highlights: list[Highlight], heat: bool = False) -> str:
    """The whole article body. Blocks come in text order: one pass over the highlights,
    sorted by start, hands each block those that overlap it."""
    return "".join(layout_pieces(layout, highlights, heat))


def layout_pieces(layout: Layout, highlights: list[Highlight], heat: bool = False) -> list[str]:
    """render_layout's pieces before they are joined: each block's HTML is one piece (at
    the index of its item times two), so that a block may be drawn again alone."""
    ordered = sorted(highlights, key=lambda h: h.start)
    taken = 0
    active: list[Highlight] = []
    out = []
    for item in layout.items:
        if isinstance(item, Block):
            while taken < len(ordered) and ordered[taken].start < item.end:
                active.append(ordered[taken])
                taken += 1
            active = [h for h in active if h.end > item.start]
            out.append(render_block(item, active, heat=heat))
        elif isinstance(item, OpenTag):
            out.append(f"<{item.tag}{_attrs(item.attrs)}>")
        elif isinstance(item, CloseTag):
            out.append(f"</{item.tag}>")
        elif isinstance(item, VoidTag):
            extra = (("loading", "lazy"),) if item.tag == "img" else ()
            out.append(f"<{item.tag}{_attrs(item.attrs + extra)}>")
        else:
            out.append("")
        out.append("\n")
    return out
