"""Helpers for the functional tests: a small HTML tree, selections, annotation counts."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

import sqlalchemy as sa
from sqlalchemy import event

from tests.conftest import HTMX, SEED_SLUG
from webapp.database import write_intent
from webapp.models import Annotation, DocumentVersion

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass(eq=False)
class Element:
    tag: str
    attrs: dict[str, str | None] = field(default_factory=dict)
    children: list[Element | str] = field(default_factory=list)
    parent: Element | None = None

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attrs.get(name, default)

    @property
    def id(self) -> str | None:
        return self.attrs.get("id")

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, **attrs: str) -> list[Element]:
        """Descendants with this tag (any when None) whose attributes equal `attrs`
        (use class_ for class; a value of True only asks that the attribute exists)."""
        wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
        found = []
        for element in self.iter():
            if tag is not None and element.tag != tag:
                continue
            if all(
                (name in element.attrs) if value is True else element.attrs.get(name) == value
                for name, value in wanted.items()
            ):
                found.append(element)
        return found

    def find(self, tag: str | None = None, **attrs: str) -> Element | None:
        found = self.find_all(tag, **attrs)
        return found[0] if found else None

    def by_id(self, element_id: str) -> Element | None:
        return self.find(None, id=element_id)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def top_level(self) -> list[Element]:
        """Element children (for a fragment: its top-level elements)."""
        return [c for c in self.children if isinstance(c, Element)]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), parent=self.stack[-1])
        self.stack[-1].children.append(element)
        if tag not in VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Element(tag, dict(attrs), parent=self.stack[-1]))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Element:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def page(response) -> Element:
    return parse(response.get_data(as_text=True))


# --- the article and its selections --------------------------------------------------------


def current_version(db, slug: str = SEED_SLUG) -> DocumentVersion:
    from webapp.models import Document

    document = db.session.scalar(sa.select(Document).where(Document.slug == slug))
    return document.current_version


def select(text: str, phrase: str, occurrence: int = 0) -> dict[str, str]:
    """Form fields selecting the `occurrence`-th copy of `phrase` in the canonical text."""
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(phrase, start + 1)
    return {"start": str(start), "end": str(start + len(phrase)), "exact": phrase}


def span(text: str, start_phrase: str, end_phrase: str) -> dict[str, str]:
    """Form fields from the start of `start_phrase` to the end of `end_phrase`."""
    start = text.index(start_phrase)
    end = text.index(end_phrase, start) + len(end_phrase)
    return {"start": str(start), "end": str(end), "exact": text[start:end]}


def create(client, fields: dict[str, str], slug: str = SEED_SLUG, htmx: bool = True, **extra):
    data = {**fields, **extra}
    return client.post(f"/articles/{slug}/annotations", data=data, headers=HTMX if htmx else {})


def annotation_count(db) -> int:
    return db.session.scalar(sa.select(sa.func.count(Annotation.id)))


def latest_annotation(db) -> Annotation:
    db.session.expire_all()
    return db.session.scalar(sa.select(Annotation).order_by(Annotation.id.desc()).limit(1))


def fetch_annotation(db, annotation_id: int) -> Annotation:
    db.session.expire_all()
    return db.session.get(Annotation, annotation_id)


def marks_for(root: Element, annotation_id: int) -> list[Element]:
    """Every <mark> on the passage of annotation `annotation_id`: a mark says where it
    starts (`data-at`), not which notes cover it, so this is each mark starting inside
    the annotation's range (whichever notes drew it: see spot_ids for those)."""
    from webapp.extensions import db

    start, end = db.session.execute(
        sa.select(Annotation.start, Annotation.end).where(Annotation.id == annotation_id)
    ).one()
    return [
        mark
        for mark in root.find_all("mark")
        if mark.get("data-at") is not None and start <= int(mark.get("data-at")) < end
    ]


def spot_ids(client, slug: str, at: int, context: str | None = None) -> list[int]:
    """The ids of the notes the spot partial lists at offset `at` (what a click on a mark
    shows), as `client` sees them."""
    query = {"at": at, **({"context": context} if context else {})}
    response = client.get(f"/articles/{slug}/spot", query_string=query, headers=HTMX)
    assert response.status_code == 200, response.status_code
    return [int(i) for i in re.findall(r'data-spot-note="(\d+)"', response.get_data(as_text=True))]


def block_of(element: Element) -> Element | None:
    for ancestor in element.ancestors():
        if (ancestor.id or "").startswith("block-"):
            return ancestor
    return None


def csrf_from_hx_headers(root: Element) -> str:
    body = root.find("body")
    assert body is not None and body.get("hx-headers"), "the page has no hx-headers"
    return json.loads(body.get("hx-headers"))["X-CSRFToken"]


def vary(response) -> set[str]:
    return {v.strip().lower() for v in re.split(r",", response.headers.get("Vary", "")) if v}


def card_ids(root: Element) -> list[str]:
    """The ids of the cards in the sidebar's #cards list, in order."""
    cards = root.by_id("cards")
    assert cards is not None, "the page has no #cards list"
    return [e.id for e in cards.top_level() if "card" in e.classes]


def cards_in(root: Element) -> list[Element]:
    """The cards of the sidebar's #cards list, in order."""
    cards = root.by_id("cards")
    assert cards is not None, "the page has no #cards list"
    return [e for e in cards.top_level() if "card" in e.classes]


def oob_cards(root: Element) -> list[Element]:
    """Top-level cards of a fragment that are swapped in out of band, on the card itself."""
    return [e for e in root.top_level() if "card" in e.classes and e.get("hx-swap-oob")]


def _card_key(card: Element, sort: str) -> tuple:
    def num(name: str) -> float:
        return float(card.get(f"data-{name}") or 0)

    pinned = -num("pinned")
    if sort == "newest":
        return (pinned, -num("created"), -num("annotation"))
    if sort == "votes":
        return (pinned, -num("votes"), num("start"), num("end"), num("annotation"))
    return (pinned, num("start"), num("end"), num("annotation"))


def insert_card(
    cards: list[Element], card: Element, sort: str = "position", more: bool = False
) -> list[str] | None:
    """Where static/js/sidebar.js puts a card whose out-of-band target is missing: before
    the first loaded card it sorts before (pinned first), else at the end; None when it
    sorts past the loaded cards while a later page is still to come."""
    assert card.get("hx-swap-oob") == "outerHTML", card.attrs
    ids = [c.id for c in cards]
    assert card.id not in ids, f"{card.id} is in the sidebar already: htmx swaps it in place"
    for index, loaded in enumerate(cards):
        if _card_key(card, sort) < _card_key(loaded, sort):
            return [*ids[:index], card.id, *ids[index:]]
    return None if more else [*ids, card.id]


def when_the_reads_end(db, action) -> None:
    """`action` right after the request's read transaction ends (a note's create reads
    first), before its write transaction begins: just before the first statement it runs
    to write (on SQLite its BEGIN IMMEDIATE, the app's writers' turn taken, which another
    engine does not wait for; on PostgreSQL the statement that begins the transaction)."""
    db.session.rollback()  # the test's own reads end here: the request starts its own
    done = []

    def then(*_arguments) -> None:
        if write_intent.get() and not done:
            done.append(True)
            action()

    event.listen(db.engine, "before_cursor_execute", then)
