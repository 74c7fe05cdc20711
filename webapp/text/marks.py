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
from bisect import bisect_right
from collections import OrderedDict
from html import escape
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


class _Cover:
    """What covers the current piece of a block, kept up to date by the sweep."""

    def __init__(self, heat: bool) -> None:
        self.heat = heat
        self.count = 0
        self.others = 0
        self.own: dict[int, Highlight] = {}
        self._top: Highlight | None = None
        self._stale = False

    def add(self, h: Highlight) -> None:
        self.count += 1
        if h.own or not self.heat:
            self.own[h.id] = h
            self._stale = True
        else:
            self.others += 1

    def remove(self, h: Highlight) -> None:
        self.count -= 1
        if h.own or not self.heat:
            del self.own[h.id]
            self._stale = True
        else:
            self.others -= 1

    def look(self) -> str:
        """The classes of a mark on the current piece (which must be covered)."""
        if self._stale:
            # The innermost highlight's colour shows on top (recomputed only on a change).
            self._top = min(self.own.values(), key=lambda h: (h.end - h.start, h.id), default=None)
            self._stale = False
        depth = min(self.count, MAX_DEPTH_CLASS)
        if self._top is not None:
            look = f"hl hl-{escape(self._top.colour)} depth-{depth}"
            if self.heat:
                look += " own"
        else:
            look = f"hl hl-others depth-{depth} heat-{heat_of(self.others)}"
        return look


def _mark(look: str, at: int, texts: list[str]) -> str:
    return f'<mark data-at="{at}" class="{look}">{"".join(texts)}</mark>'


class _BlockCache:
    """Rendered blocks, least recently used first out, bounded by their total length.

    Keyed by the block object's identity (the entry holds the block, so the identity is
    not reused while the entry lives; layouts are cached per version, so a block object
    stands for one block of one version) and by everything else its HTML depends on."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.chars = 0
        self._entries: OrderedDict[tuple, tuple[Block, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, block: Block) -> str | None:
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] is not block:
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, key: tuple, block: Block, html: str) -> None:
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
    relevant = tuple(
        h for h in highlights if h.start < block.end and block.start < h.end and h.start < h.end
    )
    key = (id(block), heat, extra_attrs, relevant)
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
    cuts = {block.start, block.end}
    cuts.update(s for s in block.sentences if block.start < s < block.end)
    for run in block.runs:
        cuts.update((run.start, run.end))
    starting: dict[int, list[Highlight]] = {}
    ending: dict[int, list[Highlight]] = {}
    cover = _Cover(heat)
    for h in relevant:
        if h.start <= block.start:
            cover.add(h)
        else:
            cuts.add(h.start)
            starting.setdefault(h.start, []).append(h)
        if h.end < block.end:
            cuts.add(h.end)
            ending.setdefault(h.end, []).append(h)
    points = sorted(cuts)

    attrs = (("id", block.id), ("data-start", str(block.start)), ("dir", "auto"))
    out = [f"<{block.tag}{_attrs(attrs + block.attrs + extra_attrs)}>"]
    open_path: tuple[Inline, ...] = ()
    span_open = False
    sentence_starts = set(block.sentences)
    run_index = 0
    # The mark being drawn, open while the pieces after it in its span draw alike:
    # its classes, its first offset, its text.
    mark_look: str | None = None
    mark_at = 0
    mark_text: list[str] = []
    for left, right in zip(points, points[1:], strict=False):
        for h in ending.get(left, ()):
            cover.remove(h)
        for h in starting.get(left, ()):
            cover.add(h)
        while block.runs[run_index].end <= left:
            run_index += 1
        run = block.runs[run_index]
        path = run.path
        look = cover.look() if cover.count else None
        text = escape(run.text[left - run.start : right - run.start], quote=False)
        # Open and close inline elements to match this run's path.
        if path is open_path:  # the same run as the piece before (a mark's boundary)
            if span_open and not (left in sentence_starts or run.is_break):
                if look is not None and look == mark_look:
                    mark_text.append(text)
                    continue
                if mark_look is not None:
                    out.append(_mark(mark_look, mark_at, mark_text))
                if look is None:
                    mark_look = None
                    out.append(text)
                else:
                    mark_look, mark_at, mark_text = look, left, [text]
                continue
            common = len(path)
        else:
            common = 0
            while common < min(len(open_path), len(path)) and open_path[common] == path[common]:
                common += 1
        if mark_look is not None:
            out.append(_mark(mark_look, mark_at, mark_text))
            mark_look = None
        starts_sentence = left in sentence_starts
        if span_open and (
            common < len(open_path) or len(run.path) > common or starts_sentence or run.is_break
        ):
            out.append("</span>")
            span_open = False
        for inline in reversed(open_path[common:]):
            out.append(f"</{inline.tag}>")
        for inline in run.path[common:]:
            out.append(_open_inline(inline))
        open_path = run.path
        if run.is_break:
            out.append("<br>")
            continue
        if not span_open:
            out.append(f'<span data-o="{left}">')
            span_open = True
        if look is None:
            out.append(text)
        else:
            mark_look, mark_at, mark_text = look, left, [text]
    if mark_look is not None:
        out.append(_mark(mark_look, mark_at, mark_text))
    if span_open:
        out.append("</span>")
    for inline in reversed(open_path):
        out.append(f"</{inline.tag}>")
    out.append(f"</{block.tag}>")
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
