"""Creating, editing and deleting annotations; validation with reader-facing messages."""

from __future__ import annotations

import re
from functools import lru_cache
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from webapp import statements
from webapp.models import (
    Annotation,
    AnnotationTag,
    Change,
    Classroom,
    Document,
    DocumentVersion,
    LoginSession,
    Membership,
    User,
    Vote,
    has_note,
    utcnow,
)
from webapp.row_objects import new_row
from webapp.services.accounts import live_session_where, token_hash
from webapp.services.idempotency import InvalidKey, insert_once, parse_key, saved_before
from webapp.services.limits import recent_writes, refuse_too_many_writes, write_window_start
from webapp.services.live import latest_change_of, record_change
from webapp.text.anchoring import AnchorError, check_selection
from webapp.text.marks import Highlight
from webapp.text.sanitize import drop_control_characters, render_comment
from webapp.visibility import (
    ARCHIVED,
    PRIVATE,
    ContextError,
    ReadingContext,
    SignedIn,
    reading_context,
    visible_annotations,
)

COLOURS = ("yellow", "green", "blue", "pink", "purple")
MAX_COMMENT_CHARS = 10_000
MAX_TAGS = 10
TAG = re.compile(r"[\w-]{1,40}")
# A class's cards (a note and its replies) fill 2-4 screenfuls of the sidebar at 10; the rest
# load as it scrolls. Each card more is HTML to parse and forms to wire before the page loads.
CARDS_PER_PAGE = 10
SPOT_NOTES_PER_PAGE = 20  # the notes at one spot shown at first; a link brings the next


class AnnotationInputError(ValueError):
    """Input a reader can fix; the message says how."""


def parse_offset(value: str | None, name: str) -> int:
    if value is None or value.strip() == "":
        raise AnnotationInputError(f"The selection's {name} offset is missing.")
    try:
        return int(value)
    except ValueError:
        raise AnnotationInputError(
            f"The selection's {name} offset must be a whole number, not {value[:20]!r}."
        ) from None


def check_colour(colour: str | None) -> str:
    colour = (colour or "yellow").strip().lower()
    if colour not in COLOURS:
        raise AnnotationInputError(
            f"Unknown colour {colour[:20]!r}: choose one of {', '.join(COLOURS)}."
        )
    return colour


def check_comment(body: str | None, required: bool = False, what: str = "comment") -> str:
    # Browsers send a textarea's line breaks as CRLF; count and store them as one.
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n")
    # Requests arrive without them already (webapp.security); this is for other callers.
    body = drop_control_characters(body).strip()
    if required and not body:
        hint = ", or use Highlight" if what == "comment" else ""
        raise AnnotationInputError(f"The {what} is empty: write something{hint}.")
    if len(body) > MAX_COMMENT_CHARS:
        raise AnnotationInputError(
            f"The {what} is {len(body):,} characters long; the limit is {MAX_COMMENT_CHARS:,}."
        )
    return body


def create_annotation(
    session: Session,
    author: User,
    version: DocumentVersion,
    form: dict[str, str],
    audience: ReadingContext | None = None,
) -> Annotation:
    """Validate a selection (and optional comment) from a form and store the annotation.

    A form whose `idempotency_key` this author used before gets the note saved then.
    `audience`: what audience_for() gives for the form's audience, if the caller has it."""
    key = idempotency_key(form.get("idempotency_key"))
    repeated = saved_before(session, Annotation, author.id, key)
    if repeated is not None:
        return repeated
    annotation, _ = save_annotation(
        session, new_annotation(author, version, form, audience), author
    )
    return annotation


def new_annotation(
    author: User,
    version: DocumentVersion,
    form: dict[str, str],
    audience: ReadingContext | None = None,
) -> Annotation:
    """The annotation a form asks for, validated and anchored, not yet in the session (and
    so nothing written): save_annotation() stores it."""
    key = idempotency_key(form.get("idempotency_key"))
    start = parse_offset(form.get("start"), "start")
    end = parse_offset(form.get("end"), "end")
    exact = form.get("exact")
    if exact is None:
        raise AnnotationInputError("The selected text (exact) is missing.")
    version_id = form.get("version")
    if version_id and version_id != str(version.id):
        raise AnnotationInputError(REVISED)
    try:
        anchor = check_selection(version.text, start, end, exact)
    except AnchorError as error:
        raise AnnotationInputError(str(error)) from None
    colour = check_colour(form.get("colour"))
    body = check_comment(form.get("body"), required=form.get("intent") == "comment")
    question = _checked(form.get("question"))
    tags = parse_tags(form.get("tags"))
    if audience is None:
        audience = audience_for(author, form.get("audience"))
    # A bare highlight is its author's own wherever it is made: sharing starts with a note.
    classroom = audience.classroom if has_note(body, question, tags) else None
    now = utcnow()
    annotation = new_row(
        Annotation,
        created_at=now,
        updated_at=now,
        document_id=version.document_id,
        version_id=version.id,
        author_id=author.id,
        start=anchor.start,
        end=anchor.end,
        exact=anchor.exact,
        prefix=anchor.prefix,
        suffix=anchor.suffix,
        colour=colour,
        body_markdown=body,
        body_html=render_comment(body) if body else "",
        classroom_id=classroom.id if classroom else None,
        is_question=question,
    )
    annotation.tags = [AnnotationTag(name=name) for name in tags]
    annotation.idempotency_key = key
    return annotation


def save_annotation(
    session: Session, annotation: Annotation, author: User
) -> tuple[Annotation, bool]:
    """Store a new_annotation(); when a request with the same idempotency key saved one
    first, that one instead. Returns (annotation, whether it is new)."""
    annotation, new = insert_once(session, annotation)
    if new:
        record_change(session, annotation, author, "created")
    return annotation, new


REVISED = "The article has been updated since this page was loaded: reload and select again."


class NotWritable(Exception):
    """What a note was about to be saved on changed since it was read: nothing is saved.
    `status` is the HTTP answer's, the message says what to do."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_still_writable(
    session: Session,
    annotation: Annotation,
    author: User,
    writes_per_minute: int,
    seen_seq: int | None = None,
) -> tuple[int, bool]:
    """Inside the write transaction of a note read and checked before it (a @reads_first
    create): what the note stands on still holds, read again under the write lock, in one
    statement. Raises NotWritable when the article was revised (the note is anchored to
    the old text, where nothing would ever show it), archived or deleted; when its class
    was archived or the author left it; when the author's login session ended (a deleted
    account included; an author not loaded from one is not asked). RateLimited when the
    author's writes of the last minute reach `writes_per_minute`: counted under the lock,
    two workers' writes cannot both pass the limit. The rest read before (who may read
    the article, the rendering) is taken as of when the request came, as if the note had
    been saved then.

    Returns, read in the same statement, the article's latest change-log seq and whether
    a change after seq `seen_seq` (the one the request read its view at) was to a note of
    the author's: what the write's answer is drawn from is brought up to date with them here,
    under the lock, where nothing else is written until this write commits."""
    token = author.session_token
    # On the session's connection: Session.execute would have Flask-SQLAlchemy's get_bind
    # walk the statement for the binds of its tables (a third of the cost).
    row = statements.first(
        session.connection(),
        _STILL_WRITABLE,
        {
            "document_id": annotation.document_id,
            "user_id": author.id,
            "token_hash": token_hash(token) if token else None,
            "now": utcnow(),
            "since": write_window_start(),
            "classroom_id": annotation.classroom_id,
            "seen_seq": seen_seq,
        },
    )
    if row is None:
        raise NotWritable(404, "This article was deleted: the note could not be saved.")
    current_version_id, archived_at, signed_in, membership, class_archived_at, recent = row[:6]
    if token and not signed_in:
        raise NotWritable(401, "Your login session has ended: log in again to save the note.")
    if archived_at is not None:
        raise NotWritable(409, "This article is archived: it can be read but not annotated.")
    if current_version_id != annotation.version_id:
        raise NotWritable(409, REVISED)
    if annotation.classroom_id is not None:
        if membership is None:
            raise NotWritable(422, "Cannot post there: You are not a member of that class.")
        if class_archived_at is not None:
            raise NotWritable(403, ARCHIVED)
    refuse_too_many_writes(recent, writes_per_minute)
    latest, own_changed = row[6:]
    return latest, bool(own_changed) or seen_seq is None  # (no seq seen: anything may have)


def _still_writable():
    classroom_id = sa.bindparam("classroom_id", type_=sa.Integer)
    member = (
        sa.select(Membership.id)
        .where(
            Membership.classroom_id == classroom_id,
            Membership.user_id == sa.bindparam("user_id"),
        )
        .scalar_subquery()
    )
    class_archived = (
        sa.select(Classroom.archived_at).where(Classroom.id == classroom_id).scalar_subquery()
    )
    signed_in = sa.exists().where(
        live_session_where(
            sa.bindparam("user_id", type_=sa.Integer),
            sa.bindparam("token_hash", type_=sa.String),
            sa.bindparam("now", type_=LoginSession.__table__.c.expires_at.type),
        )
    )
    own_changed = sa.exists().where(
        Change.document_id == Document.id,
        Change.seq > sa.bindparam("seen_seq", type_=sa.Integer),
        Change.annotation_id == Annotation.id,
        Annotation.document_id == Document.id,
        Annotation.author_id == sa.bindparam("user_id", type_=sa.Integer),
    )
    return (
        sa.select(
            Document.current_version_id,
            Document.archived_at,
            signed_in,
            member,
            class_archived,
            recent_writes(),
            latest_change_of(Document.id).scalar_subquery(),
            own_changed,
        )
        .where(Document.id == sa.bindparam("document_id"))
        # PostgreSQL: the article is not revised or archived until this write commits
        # (a revision updates the row first and takes the change counter last, as this
        # write does: no deadlock). SQLite ignores it: the write lock covers all.
        .with_for_update(read=True, of=Document.__table__)
    )


# Asked by every note's create, under the write lock: built once.
_STILL_WRITABLE = _still_writable()


def audience_for(author: User, key: str | None) -> ReadingContext:
    """The context a new note is posted in ("private", "class-N"): one of the author's."""
    try:
        return reading_context(author, key)
    except ContextError as error:
        raise AnnotationInputError(f"Cannot post there: {error}") from None


def idempotency_key(value: str | None) -> str | None:
    try:
        return parse_key(value)
    except InvalidKey as error:
        raise AnnotationInputError(str(error)) from None


def _checked(value: str | None) -> bool:
    return (value or "").lower() in {"on", "1", "true", "yes"}


def parse_tags(value: str | None) -> list[str]:
    """Tags from "war, refugees #syria": lower case, letters/digits/-/_, de-duplicated."""
    names = []
    for raw in re.split(r"[,\s]+", value or ""):
        name = raw.strip().lstrip("#").casefold()
        if not name:
            continue
        if not TAG.fullmatch(name):
            raise AnnotationInputError(
                f"A tag is one word of letters, digits, '-' or '_' (up to 40): {raw[:40]!r}."
            )
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        raise AnnotationInputError(f"At most {MAX_TAGS} tags per note.")
    return names


def update_annotation(
    session: Session, annotation: Annotation, actor: User, form: dict[str, str]
) -> Annotation:
    """Change what the form holds. `audience` shares a private note with one of the
    author's classes (it needs a comment, a question or tags); a shared note stays shared."""
    share_with = _sharing(annotation, actor, form.get("audience"))
    if "body" in form:
        body = check_comment(form.get("body"))
        annotation.body_markdown = body
        annotation.body_html = render_comment(body) if body else ""
    if "colour" in form:
        annotation.colour = check_colour(form.get("colour"))
    if "tags" in form:
        names = parse_tags(form.get("tags"))
        kept = [tag for tag in annotation.tags if tag.name in names]
        have = {tag.name for tag in kept}
        annotation.tags = kept + [AnnotationTag(name=n) for n in names if n not in have]
    if "question" in form or form.get("has_question_field"):
        annotation.is_question = _checked(form.get("question"))
    if share_with is not None:
        if not has_note(annotation.body_markdown, annotation.is_question, annotation.tags):
            raise AnnotationInputError(f"Write a comment to share it with {share_with.name}.")
        annotation.classroom_id = share_with.id
    annotation.updated_at = utcnow()
    record_change(session, annotation, actor, "updated")
    return annotation


def _sharing(annotation: Annotation, actor: User, key: str | None):
    """The class a private note is to be shared with, if the form asks for one."""
    current = f"class-{annotation.classroom_id}" if annotation.classroom_id else PRIVATE
    if not key or key == current:
        return None
    if annotation.classroom_id is not None:
        raise AnnotationInputError(
            "A note shared with a class stays there: delete it to take it back."
        )
    try:
        return reading_context(actor, key).classroom
    except ContextError as error:
        raise AnnotationInputError(f"Cannot share it there: {error}") from None


def delete_annotation(session: Session, annotation: Annotation, actor: User) -> None:
    """Soft delete: the row stays (for undo, exports and threads), the mark goes."""
    annotation.deleted_at = utcnow()
    record_change(session, annotation, actor, "deleted")


def restore_annotation(session: Session, annotation: Annotation, actor: User) -> None:
    annotation.deleted_at = None
    record_change(session, annotation, actor, "restored")


def annotations_for_reader(
    session: Session,
    user: User | None,
    document: Document,
    context: ReadingContext | None = None,
    with_deleted_threads: bool = False,
    only_ids: list[int] | None = None,
) -> list[Annotation]:
    """Visible annotations of a document in a reading context, in document order (orphans
    last). with_deleted_threads adds deleted annotations whose threads live on; only_ids
    narrows the list to some annotations (one card) without loading the rest."""
    if user is None or not user.is_authenticated:
        return []
    where = [Annotation.document_id == document.id, visible_annotations(user, with_deleted_threads)]
    if context is not None:
        where.append(context.clause())
    if only_ids is not None:
        where.append(Annotation.id.in_(only_ids))
    return list(
        session.scalars(
            sa.select(Annotation)
            .options(selectinload(Annotation.author), selectinload(Annotation.tags))
            .where(*where)
            .order_by(
                Annotation.version_id.is_(None), Annotation.start, Annotation.end, Annotation.id
            )
        )
    )


def highlights_of(annotations: list[Annotation], version: DocumentVersion) -> list[Highlight]:
    return [
        Highlight(a.id, a.start, a.end, a.colour)
        for a in annotations
        if a.version_id == version.id and a.deleted_at is None
    ]


def _reader_where(user: User, document_id: int, context: ReadingContext | None, deleted_threads):
    where = [Annotation.document_id == document_id, visible_annotations(user, deleted_threads)]
    if context is not None:
        where.append(context.clause())
    return where


def _in_context(
    columns, user: User, document_id: int, context: ReadingContext, deleted_threads, *extra
):
    """A select of `columns` of the annotations `user` sees in `context` (and `extra`):
    one select per part of the context, united, so that each reads only its part through
    an index, not every note of the article (other classes' notes included)."""
    common = [Annotation.document_id == document_id, visible_annotations(user, deleted_threads)]
    selects = [sa.select(*columns).where(*common, part, *extra) for part in context.parts(user.id)]
    return selects[0] if len(selects) == 1 else sa.union_all(*selects)


# What a mark needs of a note (a lean read, no ORM objects): id, start, end, colour,
# author; and where it stands: its version (None: an orphan) and whether it is deleted.
MARK_COLUMNS = (
    Annotation.id,
    Annotation.start,
    Annotation.end,
    Annotation.colour,
    Annotation.author_id,
)
PLACE_COLUMNS = (Annotation.version_id, Annotation.deleted_at.is_not(None))


def ranges_for_reader(
    session: Session,
    user: User | None,
    document_id: int,
    version_id: int,
    context: ReadingContext | None,
    between: tuple[int, int] | None = None,
) -> list[Highlight]:
    """The marks a reader sees in a context: a lean read of five columns, no ORM objects
    (a class's article may carry thousands). With `between` (lo, hi), only those that
    overlap [lo, hi), found by position through the (document, class, start) index."""
    if user is None or not user.is_authenticated:
        return []
    user_id = user.id  # once: `user` is usually Flask-Login's proxy, dear per access
    parameters = {"document_id": document_id, "version_id": version_id}
    if between is not None:
        parameters["lo"], parameters["hi"] = between
    if context is None:
        query = _ranges(user_id, None, None, between is not None)
    else:
        classroom_id = context.classroom.id if context.classroom is not None else None
        member_id = context.membership.user_id if context.membership is not None else None
        query = _ranges(user_id, (classroom_id,), member_id, between is not None)
    marks = statements.rows(session.connection(), query, parameters)
    return [
        Highlight(i, start, end, colour, author == user_id)
        for i, start, end, colour, author in marks
    ]


# ranges_for_reader's statements, built once per reader and context (building one costs
# more than running it); the article, version and span are bound parameters.
@lru_cache(maxsize=512)
def _ranges(user_id: int, context: tuple | None, member_id: int | None, between: bool):
    user = SignedIn(user_id)
    extra = [Annotation.version_id == sa.bindparam("version_id")]
    if between:
        extra += [Annotation.start < sa.bindparam("hi"), Annotation.end > sa.bindparam("lo")]
    document_id = sa.bindparam("document_id")
    if context is None:
        where = _reader_where(user, document_id, None, False)
        return sa.select(*MARK_COLUMNS).where(*where, *extra)
    (classroom_id,) = context
    reading = ReadingContext(
        SimpleNamespace(id=classroom_id) if classroom_id is not None else None,
        SimpleNamespace(user_id=member_id) if member_id is not None else None,
    )
    return _in_context(MARK_COLUMNS, user, document_id, reading, False, *extra)


def marks_for_reader(
    session: Session,
    user: User | None,
    document_id: int,
    version_id: int,
    context: ReadingContext,
) -> tuple[list[Highlight], list[int]]:
    """The page's marks (as ranges_for_reader) and the ids of the context's orphans (notes
    whose passage is gone, deleted ones with live threads included: see
    orphans_for_reader), from one lean read of the context's notes."""
    if user is None or not user.is_authenticated:
        return [], []
    columns = (*MARK_COLUMNS, *PLACE_COLUMNS)
    current_or_orphan = sa.or_(Annotation.version_id == version_id, Annotation.version_id.is_(None))
    query = _in_context(columns, user, document_id, context, True, current_or_orphan)
    user_id = user.id
    highlights, orphans = [], []
    for i, start, end, colour, author, version, deleted in session.execute(query).all():
        if version is None:
            orphans.append(i)
        elif not deleted:
            highlights.append(Highlight(i, start, end, colour, author == user_id))
    orphans.sort()
    return highlights, orphans


def covering_spot(
    session: Session,
    user: User | None,
    document_id: int,
    version_id: int,
    context: ReadingContext | None,
    at: int,
    offset: int = 0,
    limit: int | None = SPOT_NOTES_PER_PAGE,
) -> tuple[list[Annotation], int]:
    """The annotations a reader sees covering one offset (the notes at a spot), in
    document order: a page of them from `offset` as objects, and how many there are in
    all (their ids are read lean, the page alone is loaded)."""
    if user is None or not user.is_authenticated:
        return [], 0
    extra = [Annotation.version_id == version_id, Annotation.start <= at, Annotation.end > at]
    if context is None:
        where = [*_reader_where(user, document_id, None, False), *extra]
    else:
        where = [
            Annotation.id.in_(
                _in_context((Annotation.id,), user, document_id, context, False, *extra)
            )
        ]
    ids = list(
        session.scalars(
            sa.select(Annotation.id)
            .where(*where)
            .order_by(Annotation.start, Annotation.end, Annotation.id)
        )
    )
    page = ids[offset:] if limit is None else ids[offset : offset + limit]
    return load_annotations(session, page), len(ids)


def _votes_of_note():
    """A correlated count of a note's upvotes, the author's own left out."""
    return (
        sa.select(sa.func.count())
        .select_from(Vote)
        .where(Vote.annotation_id == Annotation.id, Vote.user_id != Annotation.author_id)
        .scalar_subquery()
    )


def listed_for_reader(
    session: Session,
    user: User | None,
    document_id: int,
    context: ReadingContext | None,
    *,
    mine: bool = False,
    questions: bool = False,
    unanswered: bool = False,
    tag: str = "",
    student: int | None = None,
    sort: str = "position",
    search: str = "",
    offset: int = 0,
    limit: int | None = CARDS_PER_PAGE,
    through: int | None = None,
) -> tuple[list[Annotation], bool]:
    """A page of the sidebar's cards: anchored annotations visible in the context (with
    deleted ones whose threads live on) that pass the filters, in the chosen order (pinned
    first); filtering, ordering and paging happen in the database, and only the page is
    loaded as objects. `through` extends the page to include that annotation. Returns the
    page and whether more follow."""
    if user is None or not user.is_authenticated:
        return [], False
    if context is None:
        where = _reader_where(user, document_id, None, True)
    else:
        ids = _in_context((Annotation.id,), user, document_id, context, True)
        where = [Annotation.id.in_(ids)]
    where.append(Annotation.version_id.is_not(None))
    if mine:
        where.append(Annotation.author_id == user.id)
    if questions or unanswered:
        where.append(Annotation.is_question.is_(True))
    if unanswered:
        where.append(Annotation.answered_at.is_(None))
    if tag:
        where.append(
            sa.exists().where(
                AnnotationTag.annotation_id == Annotation.id, AnnotationTag.name == tag
            )
        )
    if student:
        where.append(Annotation.author_id == student)
    order = [Annotation.pinned.desc()]
    if sort == "newest":
        order += [Annotation.created_at.desc(), Annotation.id.desc()]
    else:
        if sort == "votes":
            order.append(_votes_of_note().desc())
        order += [Annotation.start, Annotation.end, Annotation.id]
    ids_only = sa.select(Annotation.id).where(*where).order_by(*order)
    if search or through is not None:
        # Case folding is Python's (the database's lower() is ASCII-only on SQLite); the
        # rows are three columns, not objects.
        if search:
            rows = session.execute(
                sa.select(Annotation.id, Annotation.exact, Annotation.body_markdown)
                .where(*where)
                .order_by(*order)
            )
            ids = [
                i
                for i, exact, body in rows
                if search in exact.casefold() or search in body.casefold()
            ]
        else:
            ids = list(session.scalars(ids_only))
        count = limit if limit is not None else len(ids)
        if through is not None and through in ids[offset:]:
            count = max(count, ids.index(through, offset) - offset + 1)
        chosen = ids[offset : offset + count]
        more = offset + count < len(ids)
        return load_annotations(session, chosen), more
    query = ids_only.offset(offset)
    if limit is not None:
        query = query.limit(limit + 1)
    ids = list(session.scalars(query))
    more = limit is not None and len(ids) > limit
    return load_annotations(session, ids[:limit] if limit is not None else ids), more


def orphans_for_reader(
    session: Session, user: User | None, document_id: int, context: ReadingContext
) -> list[Annotation]:
    """Notes of this context whose passage is no longer in the text (deleted ones whose
    threads live on included)."""
    if user is None or not user.is_authenticated:
        return []
    ids = _in_context(
        (Annotation.id,), user, document_id, context, True, Annotation.version_id.is_(None)
    )
    return list(
        session.scalars(
            sa.select(Annotation)
            .options(selectinload(Annotation.author), selectinload(Annotation.tags))
            .where(Annotation.id.in_(ids))
            .order_by(Annotation.id)
        )
    )


def load_annotations(session: Session, ids: list[int]) -> list[Annotation]:
    """These annotations (already chosen through the visibility rule), with authors and
    tags, in the order given."""
    if not ids:
        return []
    found = {
        a.id: a
        for a in session.scalars(
            sa.select(Annotation)
            .options(selectinload(Annotation.author), selectinload(Annotation.tags))
            .where(Annotation.id.in_(ids))
        )
    }
    return [found[i] for i in ids if i in found]
