"""The article as HTML for printing, with highlights and the numbers of the notes on them.

Like the reader's rendering (webapp.text.marks) it cuts the text at element and highlight
boundaries and wraps highlighted pieces in <mark>; unlike it, each note's number follows
the end of its passage (<sup class="note-ref">), and nothing is there for the reader
script (no offset spans, no ids but the notes'). A printed page needs no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from webapp.text.document import Block, CloseTag, Inline, Layout, OpenTag, VoidTag

MAX_DEPTH_CLASS = 4


@dataclass(frozen=True)
class NumberedRange:
    number: int
    start: int
    end: int
    colour: str = "yellow"


def _attrs(attrs: tuple[tuple[str, str], ...]) -> str:
    return "".join(f' {name}="{escape(value, quote=True)}"' for name, value in attrs)


def _refs(numbers: list[int]) -> str:
    links = ",".join(f'<a href="#note-{n}" aria-label="note {n}">{n}</a>' for n in numbers)
    return f'<sup class="note-ref">{links}</sup>'


def _ends(layout: Layout, ranges: list[NumberedRange]) -> dict[str, dict[int, list[int]]]:
    """Where each number goes: block id -> position -> numbers. A note's number follows its
    last character, in the last block it reaches (a passage may end between blocks)."""
    ends: dict[str, dict[int, list[int]]] = {}
    for r in ranges:
        last = None
        for block in layout.blocks:
            if block.start < r.end and block.end > block.start:
                last = block
        if last is not None:
            at = min(r.end, last.end)
            ends.setdefault(last.id, {}).setdefault(at, []).append(r.number)
    return ends


def _block(block: Block, ranges: list[NumberedRange], ending: dict[int, list[int]]) -> str:
    relevant = [r for r in ranges if r.start < block.end and block.start < r.end]
    ending = dict(ending)
    cuts = {block.start, block.end}
    for run in block.runs:
        cuts.update((run.start, run.end))
    for r in relevant:
        cuts.update(c for c in (r.start, r.end) if block.start < c < block.end)
    cuts.update(c for c in ending if block.start < c < block.end)
    points = sorted(cuts)

    out = [f"<{block.tag}{_attrs((('dir', 'auto'), *block.attrs))}>"]
    open_path: tuple[Inline, ...] = ()
    run_index = 0
    for left, right in zip(points, points[1:], strict=False):
        while block.runs[run_index].end <= left:
            run_index += 1
        run = block.runs[run_index]
        common = 0
        while common < min(len(open_path), len(run.path)) and open_path[common] == run.path[common]:
            common += 1
        for inline in reversed(open_path[common:]):
            out.append(f"</{inline.tag}>")
        for inline in run.path[common:]:
            out.append(f"<{inline.tag}{_attrs(inline.attrs)}>")
        open_path = run.path
        if run.is_break:
            out.append("<br>")
        else:
            text = escape(run.text[left - run.start : right - run.start], quote=False)
            covering = sorted(
                (r for r in relevant if r.start <= left and right <= r.end),
                key=lambda r: (r.end - r.start, r.number),
            )
            if covering:
                depth = min(len(covering), MAX_DEPTH_CLASS)
                colour = escape(covering[0].colour)
                text = f'<mark class="hl hl-{colour} depth-{depth}">{text}</mark>'
            out.append(text)
        if right in ending:
            out.append(_refs(sorted(ending.pop(right))))
    for inline in reversed(open_path):
        out.append(f"</{inline.tag}>")
    if ending:  # anything left (a block without text)
        out.append(_refs(sorted(n for numbers in ending.values() for n in numbers)))
    out.append(f"</{block.tag}>")
    return "".join(out)


def render_annotated(layout: Layout, ranges: list[NumberedRange]) -> str:
    """The whole article body with these numbered highlights."""
    ends = _ends(layout, ranges)
    out = []
    for item in layout.items:
        if isinstance(item, Block):
            out.append(_block(item, ranges, ends.get(item.id, {})))
        elif isinstance(item, OpenTag):
            out.append(f"<{item.tag}{_attrs(item.attrs)}>")
        elif isinstance(item, CloseTag):
            out.append(f"</{item.tag}>")
        elif isinstance(item, VoidTag):
            out.append(f"<{item.tag}>")
        out.append("\n")
    return "".join(out)
