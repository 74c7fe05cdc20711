"""What the students of a class see alike on an article, kept per process between requests.

A student's class view of an article is the class's notes every student sees (the same
for all of them: visibility.shown_to_students) plus a few of their own (own_beside_class).
The shared part is read once per point of the document's change log and reused by every
student of the class: the marks' rows, and the cards rendered for a student who is not
involved in them (not the author, no vote, no reply), which most cards are for most
students. What differs per student is added at request time: their own rows, their own
colours, the cards they are involved in, the form tokens.

It is valid at the document's change-log seq it was read at: every write a reader sees
live is in the change log (webapp/services/live.py: notes, replies, votes, pins, hiding,
answers, flags, account deletions), so a page whose seq is newer reads the rows again and
draws again the cards of the notes changed in between. The key holds its other inputs:
- the version (a new one re-anchors the notes) and the article's archived state;
- the class's archived state, colour purposes and its instructors (their badge; hidden
  notes are theirs to see, so instructors never use this cache);
Students of a class that reads the article in groups see different notes: not shared.
Time-dependent text (the due banner) is drawn per request, outside what is kept here.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import operator
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import compress

import sqlalchemy as sa
from sqlalchemy.orm import Session

from webapp import statements
from webapp.models import (
    Annotation,
    Assignment,
    AssignmentMode,
    Change,
    Document,
    DocumentVersion,
    Extension,
    Membership,
    Reply,
    Role,
    Vote,
)
from webapp.services.annotations import MARK_COLUMNS, PLACE_COLUMNS
from webapp.text.document import Block, Layout
from webapp.text.marks import Highlight, cover, coverage, draw_covered, layout_pieces, render_block
from webapp.visibility import ReadingContext, own_beside_class, shown_to_students

# (id, start, end, colour, author_id, version_id, deleted, pinned)
Row = tuple[int, int, int, str, int, int | None, bool, bool]
_COLUMNS = (*MARK_COLUMNS, *PLACE_COLUMNS, Annotation.pinned)
MAX_VIEWS = 16  # a class's article per entry (its latest seq): rows and up to MAX_CARDS cards
MAX_CARDS = 400  # about 1.5 MB of cards per entry at most; the rest render per request
MAX_CATCH_UP = 200  # a kept view behind by more changes than this reads all its rows again
MAX_FORESEEN = 200  # notes whose involvement is read with a student's own rows, at most
MAX_FRAGMENTS = 64  # parts of the page per entry (a few per sidebar query)
# A kept card or part of the page is its HTML split where the form token was, put back by
# joining the pieces with the request's token (a tenth of the cost of replacing a mark in
# the whole card, on every page, for every card).
Pieces = tuple[str, ...]


def log_went_back(kept_seq: int, seq: int) -> bool:
    """Whether the change log now ends further behind a kept view's seq than a read
    lagging behind another could: its changes were removed under it (a restore of an
    older backup, rows deleted by hand or by the benchmark's clean-up), so the view may
    hold notes that are gone and must be read again."""
    return kept_seq - seq > MAX_CATCH_UP


@dataclass
class ClassView:
    """The shared part of a class's view of an article at one change-log seq."""

    rows: list[Row]
    version_id: int
    seq: int = 0
    cards: dict[int, Pieces] = field(default_factory=dict)  # id: card HTML, tokens taken out
    # The cards a student is involved in, drawn for them: (user id, id): HTML, as `cards`.
    own_cards: dict[tuple[int, int], Pieces] = field(default_factory=dict)
    # Parts of the page the same for every student (templates/reader/article.html kept()),
    # by name and what else they show: HTML, tokens taken out.
    fragments: dict[tuple, Pieces] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Derived once for every student: the marks as others' (a student's own are
        # swapped in per request), the orphans, the cards' order.
        self.authors: dict[int, int] = {}
        self.highlights: list[Highlight] = []
        self.by_author: dict[int, list[int]] = {}
        self.orphans: list[int] = []
        self._derive(self.rows)
        self.listed = sorted(listing_order(row) for row in self.rows if row[5] is not None)
        self._pieces: tuple | None = None
        self._over: dict[int, tuple[Block, list[Highlight]]] = {}
        # How many of those marks cover each point of a block (text/marks.coverage): a
        # write's answer draws its block from it, with the writer's own marks.
        self._coverage: dict[int, tuple[Block, list[int], list[int]]] = {}
        # The marks over a block by author, drawn as their author's own: a student's own
        # among them, found at once.
        self._own_over: dict[int, tuple[Block, dict[int, list[Highlight]]]] = {}
        # A student's blocks drawn again, by their own marks: (layout, [(index, html)]).
        self._redrawn: dict[tuple, tuple[Layout, list[tuple[int, str]]]] = {}
        self._lock = threading.Lock()

    def _derive(self, rows: list[Row]) -> list[Highlight]:
        """Add these rows' authors, marks and orphans; returns the marks added."""
        added = []
        for i, start, end, colour, author, version, deleted, _ in rows:
            self.authors[i] = author
            if version is None:
                self.orphans.append(i)
            elif version == self.version_id and not deleted:
                self.by_author.setdefault(author, []).append(len(self.highlights))
                mark = Highlight(i, start, end, colour, False)
                self.highlights.append(mark)
                added.append(mark)
        return added

    def caught_up(
        self, changed: list[tuple[Row, bool]], seq: int, in_place: bool = False
    ) -> ClassView:
        """This view brought to change-log seq `seq`, given the rows of the notes changed
        after its own seq (each with whether the class's students see it now). New notes
        are added to what is derived already, and a note whose colour, place in the text
        or author changed is replaced in it; one that left the view, or whose mark came
        or went (deleted, orphaned), makes every derived part be derived again.

        `in_place`: this view itself is changed, when no other request can be drawing
        from it (a process serving one request at a time: state.one_request_at_a_time).
        Otherwise a copy is, the older view left as it was: copying the class's every note
        and freeing the older copy cost about a tenth of a write."""
        changed_ids = {row[0] for row, _ in changed}
        held = changed_ids & self.authors.keys()  # notes of the view among the changed
        known = {row[0]: row for row in self.rows if row[0] in held} if held else {}
        added, replaced, moved = [], {}, False
        for row, shown in changed:
            old = known.get(row[0])
            if old is None:
                if shown:
                    added.append(row)
            elif not shown or self._place(old) != self._place(row):
                moved = True
            elif old != row:
                replaced[row[0]] = (old, row)
        if in_place:
            cards, own_cards = self.cards, self.own_cards
            for i in changed_ids:
                cards.pop(i, None)
            for k in [k for k in own_cards if k[1] in changed_ids]:
                del own_cards[k]
        else:
            cards = dict(self.cards)  # (a copy, then a few out: not a walk through every card)
            for i in changed_ids:
                cards.pop(i, None)
            own_cards = {k: html for k, html in self.own_cards.items() if k[1] not in changed_ids}
        # The kept parts of the page are drawn again at a new seq, as after a full read.
        if moved:
            rows = [row for row in self.rows if row[0] not in changed_ids]
            rows += [row for row, shown in changed if shown]
            return ClassView(rows, self.version_id, seq, cards, own_cards)
        if in_place:
            fresh = self
            fresh.seq = seq
            fresh.fragments.clear()
            if replaced:
                fresh.rows[:] = [
                    replaced[row[0]][1] if row[0] in replaced else row for row in self.rows
                ]
            fresh.rows.extend(added)
        else:
            # The derived parts are copied, then changed (a copy of the attributes: copy.copy
            # goes through the pickling protocol, a tenth of this method's time).
            fresh = object.__new__(type(self))
            fresh.__dict__.update(self.__dict__)
            fresh.seq, fresh.cards, fresh.own_cards, fresh.fragments = seq, cards, own_cards, {}
            fresh.rows = self.rows
            if replaced:
                fresh.rows = [
                    replaced[row[0]][1] if row[0] in replaced else row for row in self.rows
                ]
            fresh.rows = fresh.rows + added
            fresh.authors = dict(self.authors)
            fresh.highlights = list(self.highlights)
            fresh.by_author = dict(self.by_author)
            touched = {row[4] for row in added}
            for old, new in replaced.values():
                touched.update((old[4], new[4]))
            for author in touched & self.by_author.keys():
                fresh.by_author[author] = list(self.by_author[author])
            fresh.orphans = list(self.orphans)
            fresh.listed = list(self.listed)
        # (reset below: in place, these are this view's own)
        over_before, coverage_before, own_over_before = (
            self._over,
            self._coverage,
            self._own_over,
        )
        remarked = False
        for old, new in replaced.values():
            fresh._replace_row(old, new)
            remarked = remarked or self._place(new) == "mark"
        marks = fresh._derive(added)
        for row in added:
            if row[5] is not None:
                bisect.insort(fresh.listed, listing_order(row))
        fresh._pieces = None
        fresh._over = {}
        fresh._coverage = {}
        fresh._own_over = {}
        if not remarked:  # the marks over a block, found before, with the new ones added
            # In a copy, the lists a new mark changes are copied first (the older view's
            # stay as they are); in place, they are changed.
            fresh._over = found = dict(over_before)
            grown = {}  # the blocks a new mark overlaps: their lists
            for mark in marks:
                for key, (block, over) in found.items():
                    if mark.start < block.end and mark.end > block.start:
                        if key not in grown:
                            grown[key] = over if in_place else list(over)
                        # after the marks of the same start, as a stable sort puts it
                        bisect.insort(grown[key], mark, key=_start)
            for key, over in grown.items():
                found[key] = (found[key][0], over)
            fresh._coverage = covered = dict(coverage_before)  # (another thread may add)
            for key, (block, points, counts) in list(covered.items()):
                added_here = [
                    m
                    for m in marks
                    if m.start < m.end and m.start < block.end and m.end > block.start
                ]
                if added_here:
                    if not in_place:
                        points, counts = list(points), list(counts)
                    for mark in added_here:
                        cover(block, points, counts, mark.start, mark.end)
                    covered[key] = (block, points, counts)
            fresh._own_over = by_block = dict(own_over_before)
            authors = fresh.authors
            for key, (block, by_author) in list(by_block.items()):
                here = [m for m in marks if m.start < block.end and m.end > block.start]
                if here:
                    if not in_place:
                        by_author = dict(by_author)
                    for mark in here:
                        if mark.start < mark.end:
                            author = authors[mark.id]
                            if in_place:
                                by_author.setdefault(author, []).append(_as_own(mark))
                            else:
                                by_author[author] = [*by_author.get(author, ()), _as_own(mark)]
                    by_block[key] = (block, by_author)
        fresh._redrawn = {}
        if fresh is not self:
            fresh._lock = threading.Lock()
        return fresh

    def _place(self, row: Row) -> str:
        """Where a row stands in the derived parts: a mark, an orphan, or neither."""
        if row[5] is None:
            return "orphan"
        return "mark" if row[5] == self.version_id and not row[6] else "none"

    def _replace_row(self, old: Row, new: Row) -> None:
        """Put `new` where `old` was in the derived parts (the same place: _place): in the
        view changed in place, or in a copy whose lists and touched authors' lists are its
        own."""
        i = new[0]
        self.authors[i] = new[4]
        if self._place(new) == "mark":
            index = next(k for k, h in enumerate(self.highlights) if h.id == i)
            self.highlights[index] = Highlight(i, new[1], new[2], new[3], False)
            if old[4] != new[4]:
                self.by_author[old[4]].remove(index)
                self.by_author.setdefault(new[4], []).append(index)
        if old[5] is not None:
            self.listed.remove(listing_order(old))
            bisect.insort(self.listed, listing_order(new))

    def pieces(self, layout: Layout, heat: bool) -> list[str]:
        """The body drawn with every mark as another's (text/marks.layout_pieces)."""
        kept = self._pieces
        if kept is None or kept[0] is not layout or kept[1] != heat:
            kept = self._pieces = (layout, heat, layout_pieces(layout, self.highlights, heat))
        return kept[2]

    def marks_over(self, block: Block) -> list[Highlight]:
        """The shared marks overlapping a block, by start (found once per block)."""
        found = self._over.get(id(block))
        if found is None or found[0] is not block:
            marks = [h for h in self.highlights if h.start < block.end and h.end > block.start]
            marks.sort(key=lambda h: h.start)
            found = self._over[id(block)] = (block, marks)
        return found[1]

    def coverage_over(self, block: Block) -> tuple[list[int], list[int]]:
        """The coverage of a block by the shared marks (text/marks.coverage; found once per
        block, and grown as notes are added: caught_up). Not to be changed in place."""
        found = self._coverage.get(id(block))
        if found is None or found[0] is not block:
            drawn = [h for h in self.marks_over(block) if h.start < h.end]
            found = self._coverage[id(block)] = (block, *coverage(block, drawn))
        return found[1], found[2]

    def own_over(self, block: Block) -> dict[int, list[Highlight]]:
        """The marks over a block (marks_over, the empty ones left out) by author, each as
        its author draws it: as their own (found once per block, and grown as notes are
        added: caught_up). Not to be changed in place."""
        found = self._own_over.get(id(block))
        if found is None or found[0] is not block:
            by_author: dict[int, list[Highlight]] = {}
            authors = self.authors
            for h in self.marks_over(block):
                if h.start < h.end:
                    by_author.setdefault(authors[h.id], []).append(_as_own(h))
            found = self._own_over[id(block)] = (block, by_author)
        return found[1]

    def redrawn(self, layout: Layout, heat: bool, mine: tuple) -> list[tuple[int, str]] | None:
        found = self._redrawn.get((id(layout), heat, mine))
        return None if found is None or found[0] is not layout else found[1]

    def keep_redrawn(self, layout: Layout, heat: bool, mine: tuple, blocks: list) -> None:
        with self._lock:
            if len(self._redrawn) >= MAX_CARDS:
                self._redrawn.clear()  # students past the bound draw theirs again
            self._redrawn[(id(layout), heat, mine)] = (layout, blocks)

    def fragment(self, key: tuple, token: str) -> str | None:
        """A part of the page kept for every student (reader/views.kept), with this
        request's form token."""
        pieces = self.fragments.get(key)
        return None if pieces is None else token.join(pieces)

    def keep_fragment(self, key: tuple, html: str, token: str) -> None:
        if len(self.fragments) < MAX_FRAGMENTS:
            self.fragments[key] = tuple(html.split(token))

    def keep_card(self, annotation_id: int, html: str, token: str) -> None:
        if len(self.cards) < MAX_CARDS:
            self.cards[annotation_id] = tuple(html.split(token))

    def card(self, annotation_id: int, token: str) -> str | None:
        pieces = self.cards.get(annotation_id)
        return None if pieces is None else token.join(pieces)

    def keep_card_for(self, user_id: int, annotation_id: int, html: str, token: str) -> None:
        if len(self.own_cards) < MAX_CARDS:
            self.own_cards[user_id, annotation_id] = tuple(html.split(token))

    def card_for(self, user_id: int, annotation_id: int, token: str) -> str | None:
        pieces = self.own_cards.get((user_id, annotation_id))
        return None if pieces is None else token.join(pieces)


_start = operator.attrgetter("start")


def _as_own(h: Highlight) -> Highlight:
    return Highlight(h[0], h[1], h[2], h[3], True)


_id = operator.itemgetter(0)  # of a Highlight


def listing_order(row: Row) -> tuple:
    """The sidebar's position order: pinned first, then by place in the text."""
    return (not row[7], row[1], row[2], row[0])


class _Views:
    """The ClassViews, least recently used first out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple, ClassView] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> ClassView | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, view: ClassView) -> None:
        with self._lock:
            self._entries[key] = view
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def discard(self, key: tuple, view: ClassView) -> None:
        """Forget the view kept under `key`, if it is still this one."""
        with self._lock:
            if self._entries.get(key) is view:
                del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def views_of(extensions: dict) -> _Views:
    """The app's ClassViews (one app per process; tests make many, on databases whose ids
    and seqs repeat, so the cache is the app's, not the module's)."""
    found = extensions.get("reader_shared_views")
    if found is None:
        found = extensions.setdefault("reader_shared_views", _Views(MAX_VIEWS))
    return found


def student_class_context(context: ReadingContext) -> bool:
    """Whether this view is a student's class view (not an instructor's, not private):
    one that shares the class's view unless the class reads the article in groups
    (ClassFacts.groups)."""
    return not (context.classroom is None or context.is_instructor or context.membership is None)


@dataclass(frozen=True)
class ClassFacts:
    """What a student's class view of an article needs to know of the class, read in one
    statement: its instructors (part of the shared view's key) and the article's
    assignment in it, if any (groups or not; its due date and the student's extension,
    for the due banner)."""

    instructors: set[int]
    assignment: tuple | None  # (id, mode, due_at, the student's extended due_at or None)
    classroom_id: int | None = None  # the class they are of

    @property
    def groups(self) -> bool:
        """The class reads the article in groups: students see different notes."""
        return self.assignment is not None and self.assignment[1] == AssignmentMode.GROUPS.value


def class_facts(session: Session, classroom_id: int, document_id: int, user_id: int) -> ClassFacts:
    rows = session.connection().execute(
        _CLASS_FACTS, {"classroom_id": classroom_id, "document_id": document_id, "user_id": user_id}
    )
    teachers, assignment = set(), None
    for kind, row_id, mode, due_at, extended in rows:
        if kind == 0:
            assignment = (row_id, mode, due_at, extended)
        else:
            teachers.add(row_id)
    return ClassFacts(teachers, assignment, classroom_id)


def class_facts_columns() -> tuple:
    """class_facts as columns of a statement that reads the article (`documents`), with
    the parameters `classroom_id` and `user_id`: the reader's article statement
    (reader/documents.get_document_and_cursor) reads them with it. facts_of reads them."""
    return _FACTS_COLUMNS


def facts_of(values: tuple, classroom_id: int) -> ClassFacts:
    """The ClassFacts of class_facts_columns' values (for the class they were read for)."""
    teachers, assignment_id, mode, due_at, extended = values
    instructors = {int(i) for i in teachers.split(",")} if teachers else set()
    assignment = (assignment_id, mode, due_at, extended) if assignment_id is not None else None
    return ClassFacts(instructors, assignment, classroom_id)


def _assignment_column(column):
    return (
        sa.select(column)
        .where(
            Assignment.classroom_id == sa.bindparam("classroom_id"),
            Assignment.document_id == Document.id,
        )
        .scalar_subquery()
    )


_FACTS_COLUMNS = (
    sa.select(sa.func.aggregate_strings(sa.cast(Membership.user_id, sa.String), ","))
    .where(
        Membership.classroom_id == sa.bindparam("classroom_id"),
        Membership.role == Role.INSTRUCTOR.value,
    )
    .scalar_subquery(),
    _assignment_column(Assignment.id),
    _assignment_column(Assignment.mode),
    _assignment_column(Assignment.due_at),
    sa.select(Extension.due_at)
    .join(Assignment, Assignment.id == Extension.assignment_id)
    .where(
        Assignment.classroom_id == sa.bindparam("classroom_id"),
        Assignment.document_id == Document.id,
        Extension.user_id == sa.bindparam("user_id"),
    )
    .scalar_subquery(),
)


# The assignment first: its columns' types are the result's (the due dates are read as
# datetimes); the instructors' rows leave them empty.
_CLASS_FACTS = sa.union_all(
    sa.select(
        sa.literal_column("0", sa.Integer).label("kind"),
        Assignment.id,
        Assignment.mode,
        Assignment.due_at,
        Extension.due_at.label("extended"),
    )
    .outerjoin(
        Extension,
        sa.and_(
            Extension.assignment_id == Assignment.id,
            Extension.user_id == sa.bindparam("user_id"),
        ),
    )
    .where(
        Assignment.classroom_id == sa.bindparam("classroom_id"),
        Assignment.document_id == sa.bindparam("document_id"),
    ),
    sa.select(
        sa.literal_column("1", sa.Integer),
        Membership.user_id,
        sa.null(),
        sa.null(),
        sa.null(),
    ).where(
        Membership.classroom_id == sa.bindparam("classroom_id"),
        Membership.role == Role.INSTRUCTOR.value,
    ),
)


def view_key(
    document: Document,
    version: DocumentVersion,
    context: ReadingContext,
    instructors: set[int],
) -> tuple:
    """What the shared part depends on besides the change log's seq."""
    classroom = context.classroom
    return (
        document.id,
        version.id,
        classroom.id,
        document.archived_at,
        classroom.archived_at,
        json.dumps(classroom.colour_purposes or {}, sort_keys=True, default=str),
        tuple(sorted(instructors)),
    )


def class_view(
    views: _Views,
    session: Session,
    key: tuple,
    seq: int,
    document_id: int,
    version_id: int,
    classroom_id: int,
    in_place: bool = False,
) -> ClassView:
    """The class's shared view at change-log seq `seq` or later. One is kept per key: a
    newer seq reads the rows of the notes changed in between (a few changes: see
    ClassView.caught_up) or all rows again, and keeps the cards of the notes that did not
    change in between (a card changes only with a change of its note: the live poll relies
    on it too). `in_place`: the kept one may be changed in place (ClassView.caught_up)."""
    found = views.get(key)
    if found is not None and found.seq >= seq:
        if not log_went_back(found.seq, seq):
            return found  # (a later one serves too: its page's poll sends what it has again)
        found = None
    if found is not None and seq - found.seq <= MAX_CATCH_UP:  # one change per seq
        stretch = _stretch(document_id, found.seq, seq)
        rows = statements.rows(session.connection(), _changed_rows(classroom_id), stretch)
        return _caught_up(views, key, found, rows, seq, in_place)
    rows = (
        session.connection()
        .execute(
            sa.select(*_COLUMNS).where(
                Annotation.document_id == document_id, shown_to_students(classroom_id)
            )
        )
        .all()
    )
    fresh = ClassView([tuple(row) for row in rows], version_id, seq)
    if found is not None and (found.cards or found.own_cards):
        changed = set(
            session.scalars(
                sa.select(Change.annotation_id)
                .where(
                    Change.document_id == document_id,
                    Change.seq > found.seq,
                    Change.seq <= seq,
                )
                .limit(MAX_CARDS + 1)
            )
        )
        if len(changed) <= MAX_CARDS:
            fresh.cards = {i: html for i, html in found.cards.items() if i not in changed}
            fresh.own_cards = {
                key: html for key, html in found.own_cards.items() if key[1] not in changed
            }
    views.put(key, fresh)
    return fresh


# The rows of the notes changed in a stretch of the change log, each with whether the
# class's students see it (shown_to_students): a kept view brought up to date by these.
@lru_cache(maxsize=512)
def _changed_rows(classroom_id: int):
    changed = sa.select(Change.annotation_id).where(
        Change.document_id == sa.bindparam("document_id"),
        Change.seq > sa.bindparam("after"),
        Change.seq <= sa.bindparam("through"),
    )
    shown = sa.case((shown_to_students(classroom_id), SHOWN), else_=0)
    return sa.select(*_COLUMNS, shown).where(Annotation.id.in_(changed))


def _stretch(document_id: int, after: int, through: int) -> dict:
    """The parameters of _changed_rows: the change log of a document after a seq."""
    return {"document_id": document_id, "after": after, "through": through}


def _caught_up(
    views: _Views, key: tuple, found: ClassView, rows, seq: int, in_place: bool
) -> ClassView:
    """`found` brought to seq `seq` by the rows of the notes changed since (_changed_rows:
    each with whether the class's students see it now), and kept in its place (changed
    in place: ClassView.caught_up)."""
    changed = [(tuple(row[:-1]), row[-1] == SHOWN) for row in rows]
    try:
        view = found.caught_up(changed, seq, in_place)
    except BaseException:
        if in_place:  # half changed, at its older seq: the next request reads it afresh
            views.discard(key, found)
        raise
    views.put(key, view)
    return view


def kept_student_view(
    views: _Views,
    session: Session,
    key: tuple,
    seq: int,
    document_id: int,
    context: ReadingContext,
    user_id: int,
    in_place: bool = False,
) -> StudentView | None:
    """A student's class view at change-log seq `seq` or later from the shared part this
    process keeps, or None when it keeps none (a write's answer, which redraws a block or
    two, then reads the marks over them: not the class's every note) or one too far
    behind (ReaderState.share then reads it afresh, once, never under the write lock). When
    the kept part is a few changes behind (the writers taking turns across processes),
    the changed notes' rows and the student's own are read by one statement."""
    found = views.get(key)
    if found is None or seq - found.seq > MAX_CATCH_UP or log_went_back(found.seq, seq):
        return None
    if found.seq >= seq:
        return StudentView(found, own_rows(session, user_id, document_id, context), user_id)
    stretch = _stretch(document_id, found.seq, seq)
    statement = _changed_and_own_rows(user_id, context.classroom.id)
    rows = statements.rows(session.connection(), statement, stretch)
    changed = [row for row in rows if row[-1] != OWN]
    view = _caught_up(views, key, found, changed, seq, in_place)
    return StudentView(view, [tuple(row[:-1]) for row in rows if row[-1] == OWN], user_id)


SHOWN, OWN = 1, 2  # the last column of _changed_and_own_rows (0: changed, now not shown)


@lru_cache(maxsize=512)
def _changed_and_own_rows(user_id: int, classroom_id: int):
    own = _own_selects(user_id, classroom_id, sa.literal(OWN, sa.Integer))
    return sa.union_all(_changed_rows(classroom_id), *own)


def own_rows(
    session: Session, user_id: int, document_id: int, context: ReadingContext
) -> list[Row]:
    """The rows of a student's class view that the shared part leaves out (their own)."""
    statement = _own_rows(user_id, context.classroom.id)
    return statements.rows(session.connection(), statement, {"document_id": document_id})


# The statements below are asked on every student's page: built once per user (or class),
# the article a bound parameter, as building one costs more than running it.
@lru_cache(maxsize=512)
def _own_rows(user_id: int, classroom_id: int):
    return sa.union_all(*_own_selects(user_id, classroom_id))


def _own_selects(user_id: int, classroom_id: int, *extra) -> list:
    """The SELECTs of a student's own rows (one per clause of own_beside_class), with
    `extra` columns after _COLUMNS."""
    document_id = sa.bindparam("document_id")
    return [
        sa.select(*_COLUMNS, *extra).where(Annotation.document_id == document_id, clause)
        for clause in own_beside_class(user_id, classroom_id)
    ]


def own_rows_and_involved(
    session: Session, user_id: int, document_id: int, context: ReadingContext, foreseen: list
) -> tuple[list[Row], set[int]]:
    """own_rows, and of the notes `foreseen` (the class's that the first page of cards
    may show), those the student is involved in (as `involved`), in one statement."""
    rows, involved = [], set()
    statement = _own_and_involved(user_id, context.classroom.id)
    parameters = {"document_id": document_id, "ids": foreseen}
    for row in session.connection().execute(statement, parameters):
        if row[-1] == 0:
            rows.append(tuple(row[:-1]))
        else:
            involved.add(row[0])
    return rows, involved


@lru_cache(maxsize=512)
def _own_and_involved(user_id: int, classroom_id: int):
    # The own rows first: their columns' types are the result's; the others' are empty.
    ids = sa.bindparam("ids", expanding=True)
    blank = [sa.null()] * (len(_COLUMNS) - 1)
    kind = sa.literal_column("1", sa.Integer)
    return sa.union_all(
        *_own_selects(user_id, classroom_id, sa.literal_column("0", sa.Integer)),
        sa.select(Vote.annotation_id, *blank, kind).where(
            Vote.annotation_id.in_(ids), Vote.user_id == user_id
        ),
        sa.select(Reply.annotation_id, *blank, kind).where(
            Reply.annotation_id.in_(ids), Reply.author_id == user_id, Reply.deleted_at.is_(None)
        ),
    )


@lru_cache(maxsize=512)
def _involved(user_id: int):
    ids = sa.bindparam("ids", expanding=True)
    return sa.union(
        sa.select(Vote.annotation_id).where(Vote.annotation_id.in_(ids), Vote.user_id == user_id),
        sa.select(Reply.annotation_id).where(
            Reply.annotation_id.in_(ids), Reply.author_id == user_id, Reply.deleted_at.is_(None)
        ),
    )


def involved(session: Session, user_id: int, annotation_ids: list[int]) -> set[int]:
    """Of these notes, those whose card differs for this user beyond their authorship:
    they upvoted it or wrote a reply in its thread (hidden replies too)."""
    if not annotation_ids:
        return set()
    return set(session.connection().scalars(_involved(user_id), {"ids": list(annotation_ids)}))


@dataclass
class StudentView:
    """One student's class view: the shared rows and their own."""

    shared: ClassView
    own: list[Row]
    user_id: int
    # The class's notes whose involvement was read with the own rows, and those of them
    # the student is involved in (own_rows_and_involved).
    foreseen: frozenset[int] = frozenset()
    known: frozenset[int] = frozenset()
    _mine: tuple | None = field(default=None, repr=False)  # marks(): (marks, own ones)
    _shared_own: frozenset[int] | None = field(default=None, repr=False)  # marks_over()

    def involved(self, session: Session, annotation_ids: list[int]) -> set[int]:
        """Of these notes, those whose card is the student's own: theirs, or involved."""
        user_id = self.user_id
        mine = {i for i in annotation_ids if self.author_of(i) == user_id}
        unknown = [i for i in annotation_ids if i not in self.foreseen and i not in mine]
        found = involved(session, user_id, unknown)
        return mine | found | {i for i in annotation_ids if i in self.known}

    @property
    def version_id(self) -> int:
        return self.shared.version_id

    def marks(self) -> tuple[list[Highlight], list[int]]:
        """As services.annotations.marks_for_reader: the marks and the orphans' ids."""
        highlights = list(self.shared.highlights)
        mine = []  # the student's own among them, in their order (for body())
        for index in self.shared.by_author.get(self.user_id, ()):
            highlights[index] = highlights[index]._replace(own=True)
            mine.append(highlights[index])
        orphans = list(self.shared.orphans)
        for i, start, end, colour, _, version, deleted, _ in self.own:
            if version is None:
                orphans.append(i)
            elif version == self.version_id and not deleted:
                highlights.append(Highlight(i, start, end, colour, True))
                mine.append(highlights[-1])
        orphans.sort()
        self._mine = (highlights, tuple(mine))
        return highlights, orphans

    def body(self, layout: Layout, highlights: list[Highlight], heat: bool) -> str:
        """render_layout of these highlights (marks()): the shared body, with the blocks
        that hold one of the student's own marks drawn again."""
        shared = self.shared
        pieces = shared.pieces(layout, heat)
        known = self._mine
        if known is not None and known[0] is highlights:
            mine = known[1]  # (not a walk through every mark of the class)
        else:
            mine = tuple(h for h in highlights if h.own)
        if not mine:
            return "".join(pieces)
        # The same own marks over the same shared part draw the same blocks: a student's
        # next page (until the class's next change) takes them as drawn.
        redrawn = shared.redrawn(layout, heat, mine)
        if redrawn is None:
            redrawn = self._redraw(layout, heat, mine)
            shared.keep_redrawn(layout, heat, mine, redrawn)
        pieces = list(pieces)
        for index, html in redrawn:
            pieces[index] = html
        return "".join(pieces)

    def _redraw(self, layout: Layout, heat: bool, mine: tuple) -> list[tuple[int, str]]:
        """The blocks holding one of these own marks, drawn: (index in the pieces, HTML)."""
        shared = self.shared
        own_ids = {h.id for h in mine}
        redrawn = []
        for index, item in enumerate(layout.items):
            if isinstance(item, Block) and any(
                h.start < item.end and item.start < h.end for h in mine
            ):
                # The shared marks over the block, the student's own among them in their
                # colours, and their own marks the shared part has not.
                over = [
                    h._replace(own=True) if h.id in own_ids else h for h in shared.marks_over(item)
                ]
                known = {h.id for h in over}
                over += [
                    h
                    for h in mine
                    if h.id not in known and h.start < item.end and h.end > item.start
                ]
                over.sort(key=lambda h: h.start)
                redrawn.append((2 * index, render_block(item, over, heat=heat)))
        return redrawn

    def _own_ids(self) -> frozenset[int]:
        """The ids of the student's marks among the class's (found once)."""
        mine = self._shared_own
        if mine is None:
            shared = self.shared
            indices = shared.by_author.get(self.user_id, ())
            mine = frozenset(map(_id, map(shared.highlights.__getitem__, indices)))
            self._shared_own = mine
        return mine

    def marks_over(self, block: Block) -> list[Highlight]:
        """As services.annotations.ranges_for_reader over one block: the marks overlapping
        it, the student's own in their colours."""
        mine = self._own_ids()
        over = list(self.shared.marks_over(block))
        # The student's own among them (few of the hundreds over a busy block), found by
        # the interpreter's built-ins rather than a Python-level step per mark.
        for k in compress(range(len(over)), map(mine.__contains__, map(_id, over))):
            h = over[k]
            over[k] = Highlight(h[0], h[1], h[2], h[3], True)
        lo, hi = block.start, block.end
        for i, start, end, colour, _, version, deleted, _ in self.own:
            if version == self.version_id and not deleted and start < hi and end > lo:
                over.append(Highlight(i, start, end, colour, True))
        return over

    def draw_block(
        self, block: Block, beside: tuple[Highlight, ...], extra_attrs: tuple = ()
    ) -> str:
        """render_block(block, [*marks_over(block), *beside], extra_attrs, heat=True): the
        shared marks' coverage of the block (ClassView.coverage_over) with the student's
        own marks the shared part has not and `beside` added, the student's own drawn in
        their colours; the others are not looked at one by one."""
        shared = self.shared
        lo, hi = block.start, block.end
        # The student's own among the shared marks over the block, not found among the
        # hundreds over a busy block; their order does not matter to draw_covered.
        mine = list(shared.own_over(block).get(self.user_id, ()))
        added = [
            Highlight(i, start, end, colour, True)
            for i, start, end, colour, _, version, deleted, _ in self.own
            if version == self.version_id and not deleted and start < hi and end > lo
        ]
        added += beside
        added = [h for h in added if h.start < h.end and h.start < hi and lo < h.end]
        points, counts = shared.coverage_over(block)
        if added:
            points, counts = list(points), list(counts)
            for h in added:
                cover(block, points, counts, h.start, h.end)
            mine += [h for h in added if h.own]
        return draw_covered(block, points, counts, mine, extra_attrs)

    def listed(self, offset: int, limit: int) -> tuple[list[int], bool]:
        """As services.annotations.listed_for_reader with no filter, in position order: a
        page of the cards' ids (anchored notes, pinned first) and whether more follow."""
        own = sorted(listing_order(row) for row in self.own if row[5] is not None)
        merged = heapq.merge(self.shared.listed, own)
        page = list(itertools.islice(merged, offset, offset + limit + 1))
        return [entry[-1] for entry in page[:limit]], len(page) > limit

    def author_of(self, annotation_id: int) -> int | None:
        found = self.shared.authors.get(annotation_id)
        if found is None:
            for row in self.own:
                if row[0] == annotation_id:
                    return row[4]
        return found
