"""The layout of a document version: its blocks, their inline runs and the canonical text.

The canonical text is the text content of the rendered body, NFC-normalized, with
whitespace collapsed as a browser shows it, and blocks joined by BLOCK_SEPARATOR. Every
offset in the app is a code-point index into it.

Figures are outside the text: the image is an item of the layout, not of any block, and
contributes nothing to the canonical text; its caption is a block like any other, so it
can be highlighted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

from webapp.text.segment import sentence_starts

BLOCK_SEPARATOR = "\n\n"
LINE_BREAK = "\n"

# Elements that hold inline text directly (a "leaf" when none of its children is a block).
BLOCK_TAGS = frozenset(
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
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "div",
        "figure",
        "figcaption",
    }
)
VOID_TAGS = frozenset({"br", "hr", "img"})
PRESERVE_WHITESPACE = frozenset({"pre"})


@dataclass
class Node:
    tag: str
    attrs: tuple[tuple[str, str], ...] = ()
    children: list[Node | str] = field(default_factory=list)


@dataclass(frozen=True)
class Inline:
    """One inline element around a run; `key` tells apart two adjacent elements of one tag."""

    tag: str
    attrs: tuple[tuple[str, str], ...]
    key: int


@dataclass(frozen=True)
class Run:
    start: int  # absolute code-point offset
    text: str
    path: tuple[Inline, ...]
    is_break: bool = False

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass
class Block:
    id: str
    tag: str
    attrs: tuple[tuple[str, str], ...]
    start: int
    end: int
    runs: list[Run]
    sentences: list[int]  # absolute offsets where sentences begin


@dataclass(frozen=True)
class OpenTag:
    tag: str
    attrs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class CloseTag:
    tag: str


@dataclass(frozen=True)
class VoidTag:
    tag: str
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass
class Layout:
    text: str
    blocks: list[Block]
    items: list[OpenTag | CloseTag | VoidTag | Block]

    def blocks_between(self, start: int, end: int) -> list[Block]:
        """Blocks whose text intersects [start, end), or that contain a zero-width point."""
        return [b for b in self.blocks if b.start < end and start < b.end]


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, tuple((k, v or "") for k, v in attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, tuple((k, v or "") for k, v in attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse_tree(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def _is_block(node: Node | str) -> bool:
    return isinstance(node, Node) and (node.tag in BLOCK_TAGS or node.tag == "hr")


def _inline_attrs(node: Node) -> tuple[tuple[str, str], ...]:
    """Article links with no real target (`#`) must not navigate: drop their href."""
    if node.tag != "a":
        return node.attrs
    attrs = dict(node.attrs)
    href = attrs.get("href", "").strip()
    if not href or href.startswith("#"):
        attrs.pop("href", None)
    return tuple(attrs.items())


class _LayoutBuilder:
    def __init__(self) -> None:
        self.text_parts: list[str] = []
        self.length = 0
        self.blocks: list[Block] = []
        self.items: list[OpenTag | CloseTag | VoidTag | Block] = []
        self.inline_keys = 0

    def build(self, root: Node) -> Layout:
        self._container(root.children)
        return Layout("".join(self.text_parts), self.blocks, self.items)

    def _container(self, children: list[Node | str]) -> None:
        pending: list[Node | str] = []  # inline content between blocks (e.g. "text<ul>" in a li)
        for child in children:
            if _is_block(child):
                self._flush_anonymous(pending)
                pending = []
                self._block(child)
            elif isinstance(child, Node) and child.tag == "img":
                # An image between blocks is a figure's: shown, but not part of the text.
                self._flush_anonymous(pending)
                pending = []
                self.items.append(VoidTag("img", child.attrs))
            else:
                pending.append(child)
        self._flush_anonymous(pending)

    def _flush_anonymous(self, pending: list[Node | str]) -> None:
        if any(isinstance(c, Node) or c.strip() for c in pending):
            self._leaf(Node("div", (), pending))

    def _block(self, node: Node) -> None:
        if node.tag == "hr":
            self.items.append(VoidTag("hr"))
            return
        if node.tag == "figure":
            if any(isinstance(child, Node) for child in node.children):
                self.items.append(OpenTag(node.tag, node.attrs))
                self._container(node.children)
                self.items.append(CloseTag(node.tag))
            return
        if any(_is_block(child) for child in node.children):
            self.items.append(OpenTag(node.tag, node.attrs))
            self._container(node.children)
            self.items.append(CloseTag(node.tag))
        else:
            self._leaf(node)

    def _leaf(self, node: Node) -> None:
        pieces: list[tuple[str, tuple[Inline, ...], bool]] = []
        self._collect(node.children, (), pieces)
        preserve = node.tag in PRESERVE_WHITESPACE
        runs_text = _normalize_runs(pieces, preserve)
        if not runs_text:
            if node.tag in {"td", "th"}:
                self.items.append(OpenTag(node.tag, node.attrs))
                self.items.append(CloseTag(node.tag))
            return
        if self.blocks:
            self._append(BLOCK_SEPARATOR)
        start = self.length
        runs: list[Run] = []
        for text, path, is_break in runs_text:
            runs.append(Run(self.length, text, path, is_break))
            self._append(text)
        block_text = "".join(run.text for run in runs)
        block = Block(
            id=f"block-{len(self.blocks)}",
            tag=node.tag,
            attrs=node.attrs,
            start=start,
            end=self.length,
            runs=runs,
            sentences=[start + s for s in sentence_starts(block_text)],
        )
        self.blocks.append(block)
        self.items.append(block)

    def _collect(self, children, path, pieces) -> None:
        for child in children:
            if isinstance(child, str):
                pieces.append((child, path, False))
            elif child.tag == "br":
                pieces.append((LINE_BREAK, path, True))
            elif child.tag in VOID_TAGS:
                continue
            else:
                self.inline_keys += 1
                inline = Inline(child.tag, _inline_attrs(child), self.inline_keys)
                self._collect(child.children, (*path, inline), pieces)

    def _append(self, text: str) -> None:
        self.text_parts.append(text)
        self.length += len(text)


def _normalize_runs(pieces, preserve: bool) -> list[tuple[str, tuple[Inline, ...], bool]]:
    """Collapse whitespace as CSS `white-space: normal` does, across run boundaries."""
    out: list[list] = []
    after_space = True  # strips leading whitespace of the block
    for text, path, is_break in pieces:
        text = unicodedata.normalize("NFC", text)
        if is_break:
            if out and not out[-1][2] and out[-1][0].endswith(" "):
                out[-1][0] = out[-1][0][:-1]
            out.append([LINE_BREAK, path, True])
            after_space = True
            continue
        if preserve:
            out.append([text, path, False])
            continue
        chars = []
        for char in text:
            if char in " \t\n\r\f":
                if not after_space:
                    chars.append(" ")
                    after_space = True
            else:
                chars.append(char)
                after_space = False
        if chars:
            out.append(["".join(chars), path, False])
    if preserve and out and not out[-1][2]:
        out[-1][0] = out[-1][0].rstrip("\n")
    elif out and not out[-1][2] and out[-1][0].endswith(" "):
        out[-1][0] = out[-1][0][:-1]
    while out and out[-1][2]:
        out.pop()  # a trailing <br> adds nothing a reader can select
    return [(text, path, is_break) for text, path, is_break in out if text]


def build_layout(html: str) -> Layout:
    """Parse sanitized article HTML into blocks, runs and the canonical text."""
    return _LayoutBuilder().build(parse_tree(html))
