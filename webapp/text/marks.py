"""Render a layout as HTML with offset spans and highlight marks.

Text is cut at every element boundary, sentence boundary and highlight boundary. Each
piece of text sits in a `<span data-o="OFFSET">` inside its inline elements; each piece
covered by highlights is one `<mark>` listing them, with its depth. Marks never cross
an element boundary and never nest.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from webapp.text.document import Block, CloseTag, Inline, Layout, OpenTag, VoidTag

MAX_DEPTH_CLASS = 4


@dataclass(frozen=True)
class Highlight:
    id: int
    start: int
    end: int
    colour: str = "yellow"


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


def _mark(text: str, covering: list[Highlight]) -> str:
    ordered = sorted(covering, key=lambda h: (h.end - h.start, h.id))
    ids = " ".join(str(h.id) for h in sorted(covering, key=lambda h: h.id))
    depth = min(len(covering), MAX_DEPTH_CLASS)
    colour = ordered[0].colour  # the innermost highlight's colour shows on top
    return (
        f'<mark data-annotations="{ids}" class="hl hl-{escape(colour)} depth-{depth}">'
        f"{escape(text, quote=False)}</mark>"
    )


def render_block(
    block: Block, highlights: list[Highlight], extra_attrs: tuple[tuple[str, str], ...] = ()
) -> str:
    """One leaf block, with its stable id, spans and marks."""
    relevant = [h for h in highlights if h.start < block.end and block.start < h.end]
    cuts = {block.start, block.end}
    cuts.update(s for s in block.sentences if block.start < s < block.end)
    for run in block.runs:
        cuts.update((run.start, run.end))
    for h in relevant:
        cuts.update(c for c in (h.start, h.end) if block.start < c < block.end)
    points = sorted(cuts)

    attrs = (("id", block.id), ("data-start", str(block.start)), ("dir", "auto"))
    out = [f"<{block.tag}{_attrs(attrs + block.attrs + extra_attrs)}>"]
    open_path: tuple[Inline, ...] = ()
    span_open = False
    sentence_starts = set(block.sentences)
    run_index = 0
    for left, right in zip(points, points[1:], strict=False):
        while block.runs[run_index].end <= left:
            run_index += 1
        run = block.runs[run_index]
        # Open and close inline elements to match this run's path.
        common = 0
        while common < min(len(open_path), len(run.path)) and open_path[common] == run.path[common]:
            common += 1
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
        text = run.text[left - run.start : right - run.start]
        covering = [h for h in relevant if h.start <= left and right <= h.end]
        out.append(_mark(text, covering) if covering else escape(text, quote=False))
    if span_open:
        out.append("</span>")
    for inline in reversed(open_path):
        out.append(f"</{inline.tag}>")
    out.append(f"</{block.tag}>")
    return "".join(out)


def render_layout(layout: Layout, highlights: list[Highlight]) -> str:
    """The whole article body."""
    out = []
    for item in layout.items:
        if isinstance(item, Block):
            out.append(render_block(item, highlights))
        elif isinstance(item, OpenTag):
            out.append(f"<{item.tag}{_attrs(item.attrs)}>")
        elif isinstance(item, CloseTag):
            out.append(f"</{item.tag}>")
        elif isinstance(item, VoidTag):
            extra = (("loading", "lazy"),) if item.tag == "img" else ()
            out.append(f"<{item.tag}{_attrs(item.attrs + extra)}>")
        out.append("\n")
    return "".join(out)
