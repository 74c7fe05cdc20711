"""The reader's view model for one request: context, filters, the cards' extras, blocks.

Every list here goes through webapp/visibility.py (visible_annotations and the context).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from flask import abort, current_app, request
from flask_login import current_user

from webapp.extensions import db
from webapp.models import Annotation, Document, DocumentVersion, Membership
from webapp.reader.shared import (
    MAX_FORESEEN,
    ClassFacts,
    StudentView,
    class_facts,
    class_view,
    kept_student_view,
    own_rows,
    own_rows_and_involved,
    student_class_context,
    view_key,
    views_of,
)
from webapp.routing import parse_row_id
from webapp.services import discussion
from webapp.services.annotations import (
    CARDS_PER_PAGE,
    annotations_for_reader,
    listed_for_reader,
    load_annotations,
    marks_for_reader,
    ranges_for_reader,
)
from webapp.services.classes import classes_of, classes_reading
from webapp.services.deadlines import late_marks
from webapp.services.documents import article_body, layout_for
from webapp.text.document import Block
from webapp.text.marks import Highlight, render_block
from webapp.visibility import (
    NOT_A_MEMBER,
    ContextError,
    ReadingContext,
    Viewer,
    instructors_of,
    reading_context,
    viewer_of,
)

FILTERS = {
    "everyone": "Everyone",
    "mine": "Mine",
    "questions": "Questions",
    "unanswered": "Unanswered questions",
}
SORTS = {"position": "Position in the text", "newest": "Newest", "votes": "Most votes"}
OOB_OUTER = (("hx-swap-oob", "outerHTML"),)


def context_for(document: Document, key: str | None = None) -> ReadingContext:
    """The reading context asked for (`context`), or the default: the first class that has
    this article assigned, else one's private notes. A class one is not in is a 404."""
    key = key if key is not None else request.values.get("context")
    if key is None and current_user.is_authenticated:
        reading = classes_reading(db.session, current_user, document)
        if reading:
            return ReadingContext(reading[0].classroom, reading[0])
    try:
        return reading_context(current_user, key)
    except ContextError as error:
        abort(404, description=f"{error} Choose another view of this article.")


def class_context(found: Membership | None) -> ReadingContext:
    """context_for the class asked for (`context=class-N`, requested_class_id), given the
    user's membership of it read already (None: not a member, a 404 as context_for's)."""
    if found is None:
        abort(404, description=f"{NOT_A_MEMBER} Choose another view of this article.")
    return ReadingContext(found.classroom, found)


def one_request_at_a_time(environ: dict) -> bool:
    """Whether this process serves one request at a time, so that a class's kept view may
    be brought up to date in place (no other request is drawing from it): gunicorn's sync
    workers, which say so (PEP 3333's wsgi.multithread false; its threaded and async
    workers say true). Other servers may say false and still run requests side by side
    (gevent's own, a test client driven from several threads): they get a copy."""
    return environ.get("wsgi.multithread") is False and str(
        environ.get("SERVER_SOFTWARE", "")
    ).startswith("gunicorn/")


def requested_class_id() -> int | None:
    """The class of the context asked for (`context=class-N`), if it is one: whether the
    reader may read it is context_among's or context_for's to say."""
    key = request.values.get("context") or ""
    return parse_row_id(key[6:]) if key.startswith("class-") else None


def context_among(contexts: list[ReadingContext]) -> ReadingContext | None:
    """The class context asked for (`context=class-N`) when it is one of `contexts`
    (contexts_of_user(): the user's memberships, read already), else None (then
    context_for reads it, and refuses what it must)."""
    classroom_id = requested_class_id()
    if classroom_id is None:
        return None
    for context in contexts:
        if context.classroom is not None and context.classroom.id == classroom_id:
            return context
    return None


def refuse_unreadable_context() -> None:
    """Before a write: the view its answer is drawn in (`context`) must be one the user
    may read, or the write is refused unmade (a 404 after the commit would report a
    failure for a change that was made)."""
    key = request.values.get("context")
    if request.method != "POST" or key is None or not current_user.is_authenticated:
        return
    try:
        reading_context(current_user, key)
    except ContextError as error:
        abort(404, description=f"{error} Choose another view of this article.")


@dataclass(frozen=True)
class SidebarQuery:
    """The sidebar's filter and sort, read from the request."""

    filter: str = "everyone"
    tag: str = ""
    student: int | None = None
    sort: str = "position"
    offset: int = 0
    search: str = ""

    @classmethod
    def from_request(cls) -> SidebarQuery:
        values = request.values
        chosen = values.get("filter") or "everyone"
        sort = values.get("sort") or "position"
        if chosen not in FILTERS:
            abort(400, description=f"Unknown filter {chosen[:30]!r}.")
        if sort not in SORTS:
            abort(400, description=f"Unknown sort order {sort[:30]!r}.")
        student = values.get("student") or ""
        offset = parse_row_id(values.get("offset") or "0")
        if student and parse_row_id(student) is None:
            abort(400, description="The student filter must be a user id.")
        if offset is None or offset > 10**9:
            abort(400, description="Bad position in the list of notes.")
        tag = (values.get("tag") or "").strip().lstrip("#").casefold()[:40]
        search = " ".join((values.get("q") or "").split()).casefold()[:100]
        return cls(chosen, tag, parse_row_id(student), sort, offset, search)

    def params(self, **changes) -> dict:
        merged = {
            "filter": self.filter,
            "tag": self.tag,
            "student": self.student or "",
            "sort": self.sort,
            "offset": self.offset,
            "q": self.search,
            **changes,
        }
        defaults = {"filter": "everyone", "sort": "position"}
        return {
            key: value
            for key, value in merged.items()
            if value not in ("", None, 0) and defaults.get(key) != value
        }

    def matches(self, annotation: Annotation, user_id: int | None) -> bool:
        if self.filter == "mine" and annotation.author_id != user_id:
            return False
        if self.filter in ("questions", "unanswered") and not annotation.is_question:
            return False
        if self.filter == "unanswered" and annotation.answered_at is not None:
            return False
        if self.tag and self.tag not in {tag.name for tag in annotation.tags}:
            return False
        if self.search and not (
            self.search in annotation.exact.casefold()
            or self.search in annotation.body_markdown.casefold()
        ):
            return False
        return not (self.student and annotation.author_id != self.student)


@dataclass
class CardExtras:
    """Everything a card shows besides the annotation, read in a few queries for all cards."""

    viewer: Viewer
    context: ReadingContext
    votes: dict[int, int] = field(default_factory=dict)
    voted: set[int] = field(default_factory=set)
    threads: dict = field(default_factory=dict)
    flags: dict = field(default_factory=dict)
    instructors: dict = field(default_factory=dict)  # classroom id: its instructors' ids

    def by_instructor(self, item) -> bool:
        """Whether a note (or a reply, given its note's class) is by an instructor of the
        note's class: its card says so."""
        annotation = getattr(item, "annotation", item)
        return item.author_id in self.instructors.get(annotation.classroom_id, ())

    late: set[str] = field(default_factory=set)  # "annotation-N", "reply-N": for instructors

    @classmethod
    def load(cls, annotations: list[Annotation], context: ReadingContext, votes=None):
        ids = [a.id for a in annotations]
        viewer = viewer_of(current_user._get_current_object())  # (not the proxy: see viewer_in)
        moderated = [a.id for a in annotations if viewer.can_moderate(a)]
        threads = discussion.thread_of(db.session, current_user, ids)
        late = set()
        if context.is_instructor and annotations:
            late = late_marks(
                db.session, context.classroom.id, annotations[0].document_id, annotations, threads
            )
        return cls(
            viewer=viewer,
            context=context,
            votes=votes if votes is not None else discussion.vote_counts(db.session, ids),
            voted=discussion.voted_by(db.session, current_user, ids),
            threads=threads,
            flags=discussion.open_flags(db.session, moderated),
            instructors=instructors_of({a.classroom_id for a in annotations}),
            late=late,
        )


@dataclass
class ReaderState:
    """One view of an article (a context, the sidebar's query). Nothing is loaded up
    front: the marks are a lean read of ranges, the cards one page of objects."""

    document: Document
    version: DocumentVersion
    context: ReadingContext
    query: SidebarQuery

    student: StudentView | None = None  # a student's class view, from the shared cache
    facts: ClassFacts | None = None  # the class's instructors and assignment (share())

    @classmethod
    def load(cls, document: Document, version: DocumentVersion, context=None, query=None):
        context = context or context_for(document)
        return cls(document, version, context, query or SidebarQuery())

    def share(
        self,
        seq: int,
        facts: ClassFacts | None = None,
        kept_only: bool = False,
        afresh: bool = True,
    ) -> None:
        """Read the view through the class's shared part (webapp/reader/shared.py) at
        change-log seq `seq`, when it is a student's class view (`facts`: the class's,
        when they were read with the article). `kept_only`: only when this process keeps
        it: a write's answer, which redraws a block or two, does not read the class's
        every note to draw them, but for a kept view too far behind to catch up, read
        afresh once and kept again (not with `afresh` false: under the write lock)."""
        app = current_app._get_current_object()  # (the proxies, looked up once)
        if not app.config.get("READER_SHARED_VIEWS", True):
            return  # off: every part read for this request alone (tests compare the two)
        user = current_user._get_current_object()
        if not user.is_authenticated or not student_class_context(self.context):
            return
        classroom_id = self.context.classroom.id
        user_id = user.id
        if facts is None or facts.classroom_id != classroom_id:
            facts = class_facts(db.session, classroom_id, self.document.id, user_id)
        self.facts = facts
        if self.facts.groups:
            return  # students of a class reading in groups see different notes
        key = view_key(self.document, self.version, self.context, self.facts.instructors)
        views = views_of(app.extensions)
        document_id, version_id = self.document.id, self.version.id
        in_place = one_request_at_a_time(request.environ)
        if kept_only:
            self.student = kept_student_view(
                views, db.session, key, seq, document_id, self.context, user_id, in_place
            )
            if self.student is not None or not afresh or views.get(key) is None:
                return
            # Kept, but too far from `seq` to catch up (the other workers made the class's
            # last MAX_CATCH_UP changes): read afresh once below, as a page reads it, and
            # kept again. Else every write here after it would read the marks over its
            # blocks itself (about twice a write's cost) until a page was read here.
        view = class_view(
            views, db.session, key, seq, document_id, version_id, classroom_id, in_place
        )
        foreseen = []
        if self.query == SidebarQuery():
            # The first page of cards in position order (listed_ids): of the class's notes
            # it shows at most those, and the orphans.
            foreseen = [entry[-1] for entry in view.listed[:CARDS_PER_PAGE]] + view.orphans
        if foreseen and len(foreseen) <= MAX_FORESEEN:
            own, known = own_rows_and_involved(
                db.session, user_id, document_id, self.context, foreseen
            )
            self.student = StudentView(view, own, user_id, frozenset(foreseen), frozenset(known))
        else:
            own = own_rows(db.session, user_id, document_id, self.context)
            self.student = StudentView(view, own, user_id)

    def listed_ids(self) -> tuple[list[int], int | None] | None:
        """page() as ids, from the shared view, when the sidebar shows everything in
        position order (None otherwise: page() reads it)."""
        q = self.query
        if self.student is None or q != SidebarQuery(offset=q.offset):
            return None
        ids, more = self.student.listed(q.offset, CARDS_PER_PAGE)
        return ids, (q.offset + len(ids) if more else None)

    @property
    def heat(self) -> bool:
        """A class view draws others' highlights as one neutral tint (a heat map)."""
        return self.context.classroom is not None

    @cached_property
    def _marks(self) -> tuple[list[Highlight], list[int]]:
        """The marks of the whole text and the orphans' ids, read together."""
        if self.student is not None:
            return self.student.marks()
        return marks_for_reader(
            db.session, current_user, self.document.id, self.version.id, self.context
        )

    @property
    def highlights(self) -> list[Highlight]:
        return self._marks[0]

    def body(self) -> str:
        """The article with this view's marks (services/documents.article_body)."""
        if self.student is not None and self.highlights:
            return self.student.body(layout_for(self.version), self.highlights, self.heat)
        return article_body(self.version, self.highlights, heat=self.heat)

    def ranges(self, between: tuple[int, int] | None = None) -> list[Highlight]:
        return ranges_for_reader(
            db.session, current_user, self.document.id, self.version.id, self.context, between
        )

    def page(self, through: int | None = None) -> tuple[list[Annotation], int | None]:
        """A page of cards from the query's offset (at least through one annotation)."""
        q = self.query
        cards, more = listed_for_reader(
            db.session,
            current_user,
            self.document.id,
            self.context,
            mine=q.filter == "mine",
            questions=q.filter == "questions",
            unanswered=q.filter == "unanswered",
            tag=q.tag,
            student=q.student,
            sort=q.sort,
            search=q.search,
            offset=q.offset,
            limit=CARDS_PER_PAGE,
            through=through,
        )
        return cards, (q.offset + len(cards) if more else None)

    def visible(self, ids: list[int]) -> list[Annotation]:
        """Of these annotations, those this view shows (deleted ones with live threads
        included), through the visibility rule."""
        if not ids:
            return []
        return annotations_for_reader(
            db.session,
            current_user,
            self.document,
            self.context,
            with_deleted_threads=True,
            only_ids=ids,
        )

    @property
    def orphan_ids(self) -> list[int]:
        return self._marks[1]

    @cached_property
    def orphans(self) -> list[Annotation]:
        return load_annotations(db.session, self._marks[1])

    def blocks_for(
        self,
        annotations: list[Annotation],
        highlights: list[Highlight] | None = None,
        beside: tuple[Highlight, ...] = (),
    ) -> list[str]:
        """Blocks covered by these annotations, re-rendered with this context's marks:
        only the highlights overlapping those blocks are read (by position), unless given
        (`highlights`: this view's marks over span_of(annotations)). `beside`: marks the
        student's view (share()) has not, drawn with its own."""
        ordered = self._blocks_of(annotations)
        if not ordered:
            return []
        if self.student is not None and self.student.version_id == self.version.id:
            student = self.student  # the shared view's marks: no read
            if self.heat:  # (a class view: always) drawn from the shared marks' coverage
                return [student.draw_block(b, beside, OOB_OUTER) for b in ordered]
            return [
                render_block(b, [*student.marks_over(b), *beside], OOB_OUTER, heat=self.heat)
                for b in ordered
            ]
        if highlights is None:
            highlights = self.ranges((ordered[0].start, ordered[-1].end))
        return [render_block(b, highlights, OOB_OUTER, heat=self.heat) for b in ordered]

    def span_of(self, annotations: list[Annotation]) -> tuple[int, int] | None:
        """Where the blocks blocks_for draws for these annotations begin and end (None:
        none)."""
        ordered = self._blocks_of(annotations)
        return (ordered[0].start, ordered[-1].end) if ordered else None

    def _blocks_of(self, annotations: list[Annotation]) -> list[Block]:
        """The blocks of the current version these annotations cover, in text order."""
        layout = layout_for(self.version)
        blocks = {}
        for annotation in annotations:
            if annotation.version_id != self.version.id:
                continue
            for block in layout.blocks_between(annotation.start, annotation.end):
                blocks.setdefault(block.id, block)
        return sorted(blocks.values(), key=lambda b: b.start)

    def extras(self, cards: list[Annotation]) -> CardExtras:
        return CardExtras.load(cards, self.context)


def contexts_of_user() -> list[ReadingContext]:
    """The contexts the switcher offers: one's private notes, then each class."""
    contexts = [ReadingContext()]
    if current_user.is_authenticated:
        contexts += [ReadingContext(m.classroom, m) for m in classes_of(db.session, current_user)]
    return contexts
