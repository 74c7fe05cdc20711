from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import contains_eager, defer

from webapp.extensions import db
from webapp.htmx import fragments, is_htmx, render_large_view, render_view
from webapp.models import Annotation, Document, DocumentVersion
from webapp.page_cache import anonymous_page
from webapp.reader import bp
from webapp.reader.cards import cards_of, render_card
from webapp.reader.documents import get_document, get_document_and_cursor, held_shares
from webapp.reader.shared import ClassView, class_facts_columns, facts_of
from webapp.reader.state import (
    FILTERS,
    SORTS,
    ReaderState,
    SidebarQuery,
    context_among,
    context_for,
    contexts_of_user,
    requested_class_id,
)
from webapp.routing import parse_row_id
from webapp.services import discussion
from webapp.services.accounts import parse_session_id
from webapp.services.annotations import COLOURS, SPOT_NOTES_PER_PAGE, covering_spot
from webapp.services.classes import members
from webapp.services.live import changed_since, latest_change, vanished_since
from webapp.services.polling import anything_since
from webapp.services.purposes import Purpose, purposes_of
from webapp.templating import form_token
from webapp.visibility import (
    PRIVATE,
    library_shelves,
    owns,
)


@bp.app_template_global()
def colour_purposes(classroom=None) -> list[Purpose]:
    """What each highlight colour means in a class (the defaults outside one)."""
    return purposes_of(classroom)


@bp.app_template_global()
def purpose_of(purposes: list[Purpose], colour: str) -> Purpose | None:
    """The purpose of a colour among colour_purposes() (as a selectattr filter finds it, in
    a tenth of the time: a card asks it)."""
    return next((purpose for purpose in purposes if purpose.colour == colour), None)


@bp.app_template_global()
def kept(fragments: ClassView | None, *key, caller) -> Markup:
    """A part of the reader page that is the same for every student of the class (what it
    shows besides the class's shared view is in `key`), drawn once per shared view and
    kept with it; drawn each time when there is none (`fragments` None: another view, or
    the shared views off). The form token in it is this request's."""
    if not fragments:
        return caller()
    token = form_token()
    html = fragments.fragment(key, token)
    if html is None:
        html = str(caller())
        fragments.keep_fragment(key, html, token)
    return Markup(html)


SHELVES = {
    "assigned": "Assigned to my classes",
    "mine": "Mine",
    "public": "Public",
    "archived": "Archived",
}


SHELF_PAGE = 50
# A shelf lists titles: the articles' texts stay in the database.
LISTED_ONLY = (
    defer(DocumentVersion.body_markdown),
    defer(DocumentVersion.body_html),
    defer(DocumentVersion.text),
)


@dataclass(frozen=True)
class Shelf:
    versions: list
    total: int
    page: int
    pages: int


@bp.get("/")
@anonymous_page
def library():
    """The articles one may read: assigned to my classes, mine, public (and my archived),
    each shelf a page at a time (`<shelf>_page`), one query per shelf whatever its size."""
    shelves = {}
    for key, where in library_shelves(current_user).items():
        page = parse_row_id(request.args.get(f"{key}_page") or "1")
        if page is None or page < 1 or page > 10**6:
            abort(400, description="Bad page of the library.")
        # The page and the shelf's size in one statement (a window count); a page past
        # the end has no row to carry it, and counts apart.
        rows = db.session.execute(
            sa.select(DocumentVersion, sa.func.count().over())
            .join(Document, Document.current_version_id == DocumentVersion.id)
            .options(contains_eager(DocumentVersion.document), *LISTED_ONLY)
            .where(where)
            .order_by(DocumentVersion.published.desc(), DocumentVersion.title, Document.id)
            .offset((page - 1) * SHELF_PAGE)
            .limit(SHELF_PAGE)
        ).all()
        versions = [version for version, _ in rows]
        total = rows[0][1] if rows else 0
        if not rows and page > 1:
            total = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(DocumentVersion)
                .join(Document, Document.current_version_id == DocumentVersion.id)
                .where(where)
            )
        pages = max(1, -(-total // SHELF_PAGE))
        shelves[key] = Shelf(versions, total, page, pages)
    shelves = {key: shelves[key] for key in SHELVES if key in shelves}
    return render_view("reader/library.html", "content", shelves=shelves, names=SHELVES)


def shelf_url(key: str, page: int) -> str:
    """The library with one shelf at another page, the others where they are."""
    args = {k: v for k, v in request.args.items() if k.endswith("_page")}
    args[f"{key}_page"] = page
    if page == 1:
        args.pop(f"{key}_page")
    return url_for("reader.library", **args, _anchor=f"shelf-{key}")


@bp.app_context_processor
def _shelf_url():
    return {"shelf_url": shelf_url}


@bp.get("/articles/<slug>")
@anonymous_page
def article(slug: str):
    """The reader: the article with the highlights of one context, and the sidebar."""
    # The cursor with the document, before the rest: on PostgreSQL each query sees the
    # latest commits, so a change made before a later query is then sent again by the
    # first poll instead of missed. Only a signed-in reader's page polls
    # (partials/_live.html): a visitor's needs none.
    # A student's class view needs the class's instructors and assignment: asked for
    # (`context=class-N`), they come with the article too.
    classroom_id = requested_class_id() if current_user.is_authenticated else None
    also = None
    if classroom_id is not None:
        parameters = {"classroom_id": classroom_id, "user_id": current_user.id}
        also = (class_facts_columns(), parameters)
    document, version, cursor, extra = get_document_and_cursor(slug, also)
    facts = facts_of(extra, classroom_id) if extra else None
    if not current_user.is_authenticated:
        cursor = 0
    # The switcher's memberships hold the one asked for: one statement for both.
    contexts = contexts_of_user()
    state = ReaderState.load(
        document, version, context_among(contexts), query=SidebarQuery.from_request()
    )
    state.share(cursor, facts)
    listed = state.listed_ids()
    if listed is not None:
        # A student's class view: the cards come drawn (webapp/reader/shared.py).
        card_ids, more = listed
        drawn = cards_of(state, card_ids + state.orphan_ids)
        # Each list as one piece (the template writes the cards one after another).
        cards = joined(drawn[i] for i in card_ids if i in drawn)
        orphans = joined(drawn[i] for i in state.orphan_ids if i in drawn)
        x = None
    else:
        cards, more = state.page()
        orphans = state.orphans
        x = state.extras(cards + orphans)
    spot = spot_of(state) if request.args.get("at") else None
    body = Markup(state.body())
    return render_large_view(
        "reader/article.html",
        "content",
        state=state,
        document=document,
        version=version,
        body=body,
        cards=cards,
        orphans=orphans,
        drawn=listed is not None,
        more=more,
        x=x,
        contexts=contexts,
        cursor=cursor,
        spot=spot,
        students=students_in(state.context),
        colours=COLOURS,
        filters=FILTERS,
        sorts=SORTS,
        owned=owns(current_user, document),
        fragments=state.student.shared if state.student is not None else None,
    )


def joined(cards) -> list[Markup]:
    """Drawn cards (Markup) as a list of one (none if there are none)."""
    html = Markup("".join(cards))
    return [html] if html else []


@bp.get("/articles/<slug>/cards")
def cards(slug: str):
    """A page of sidebar cards: the next one as the sidebar scrolls, or the first one
    after the filter or sort changed."""
    document, version = get_document(slug)
    if not is_htmx():
        query = SidebarQuery.from_request()
        context = request.args.get("context", "")[:30]
        return redirect(
            url_for("reader.article", slug=slug, context=context or None, **query.params())
        )
    through = request.args.get("through")
    through_id = parse_row_id(through) if through else None
    if through and through_id is None:
        abort(400, description="The note to load the list through is not a valid note id.")
    state = ReaderState.load(document, version, query=SidebarQuery.from_request())
    listed = None
    if through_id is None and current_user.is_authenticated:
        state.share(latest_change(db.session, document.id))
        listed = state.listed_ids()
    if listed is not None:
        card_ids, more = listed
        drawn = cards_of(state, card_ids)
        page, x = [drawn[i] for i in card_ids if i in drawn], None
    else:
        page, more = state.page(through=through_id)
        x = state.extras(page)
    return render_view(
        "partials/_cards.html",
        "cards",
        state=state,
        document=document,
        cards=page,
        drawn=listed is not None,
        more=more,
        x=x,
        colours=COLOURS,
    )


@dataclass(frozen=True)
class Spot:
    at: int
    notes: list  # a page of them, from `start`
    x: object
    total: int = 0  # how many notes cover the spot in all
    start: int = 0
    more: int | None = None  # where the next page starts, if any

    def params(self, **changes) -> dict:
        """The query of the next page of this spot's notes."""
        return {"at": self.at, "from": self.more, **changes}


@dataclass(frozen=True)
class SpotExtras:
    votes: dict[int, int]


def spot_of(state: ReaderState) -> Spot:
    """The notes this view shows covering the offset `at` (a mark's data-at), a page of
    them from `from` (0: the first)."""
    at = parse_row_id(request.args.get("at", ""))
    if at is None or at > len(state.version.text):
        abort(400, description="The place in the text must be an offset within the article.")
    start = parse_row_id(request.args.get("from") or "0")
    if start is None or start > 10**9:
        abort(400, description="Bad position in the list of notes at this spot.")
    notes, total = covering_spot(
        db.session,
        current_user,
        state.document.id,
        state.version.id,
        state.context,
        at,
        offset=start,
        limit=SPOT_NOTES_PER_PAGE,
    )
    more = start + len(notes) if start + len(notes) < total else None
    # The spot's list shows the notes' upvotes alone of all the cards' extras.
    votes = discussion.vote_counts(db.session, [a.id for a in notes])
    return Spot(at, notes, SpotExtras(votes), total, start, more)


@bp.get("/articles/<slug>/spot")
def spot(slug: str):
    """The notes at one spot of the text, together (asked for by a click or Enter on a
    mark), a page at a time: with `from`, only the notes of that page (and the link to
    the next), to go after those shown; without htmx, the article with them in the
    sidebar."""
    document, version = get_document(slug)
    if not is_htmx():
        context = request.args.get("context", "")[:30]
        at = request.args.get("at", "")[:12]
        start = request.args.get("from", "")[:12] or None
        return redirect(
            url_for(
                "reader.article",
                slug=slug,
                context=context or None,
                at=at,
                **{"from": start},
                _anchor="spot-title",
            )
        )
    state = ReaderState.load(document, version)
    found = spot_of(state)
    block = "spot_notes" if found.start else "spot"
    return render_view("reader/article.html", block, state=state, document=document, spot=found)


@bp.get("/articles/<slug>/changes")
def changes(slug: str):
    """What others changed since the cursor, as out-of-band cards and blocks; 204 if nothing.

    The cursor is a place in the document's change log in the database (commit-ordered,
    see webapp/services/live.py), so any worker on any host answers alike.
    """
    cursor = parse_row_id(request.args.get("cursor", "0"))
    if cursor is None:
        abort(400, description="Bad live-update cursor.")
    query = SidebarQuery.from_request()
    if nothing_new(slug, cursor):
        return "", 204  # the common answer: one indexed query, nothing loaded or rendered
    document, version = get_document(slug)
    context = context_for(document)
    if not current_user.is_authenticated:
        return "", 204
    classroom_id = context.classroom.id if context.classroom else None
    changed_ids, new_cursor = changed_since(
        db.session, document.id, classroom_id, current_user.id, cursor
    )
    if not changed_ids:
        return "", 204  # the common answer: one indexed query, nothing rendered
    state = ReaderState.load(document, version, context, query)
    visible = {a.id: a for a in state.visible(changed_ids)}
    user_id = current_user.id
    shown = [
        visible[i]
        for i in changed_ids
        if i in visible and not visible[i].is_orphan and state.query.matches(visible[i], user_id)
    ]
    extras = state.extras(shown)
    parts = [render_card(a, extras, oob="outerHTML") for a in shown]
    # A card this view no longer lists goes. One the reader cannot see goes only if they
    # may have it (it existed at the cursor, then was hidden or deleted): naming any other
    # invisible annotation, or redrawing its blocks, would tell them it exists.
    shown_ids = {a.id for a in shown}
    vanished = vanished_since(db.session, [i for i in changed_ids if i not in visible], cursor)
    gone = [i for i in changed_ids if i not in shown_ids and (i in visible or i in vanished)]
    parts += [f'<div id="annotation-{i}" hx-swap-oob="delete"></div>' for i in gone]
    redrawn = [visible[i] for i in changed_ids if i in visible]
    redrawn += db.session.scalars(sa.select(Annotation).where(Annotation.id.in_(vanished)))
    parts += state.blocks_for(redrawn)
    parts.append(
        render_template("partials/_live.html", document=document, cursor=new_cursor, oob=True)
    )
    return fragments(*parts)


def nothing_new(slug: str, cursor: int) -> bool:
    """The idle poll, from the session cookie and one statement (webapp/services/polling.py);
    False whenever it cannot tell, and the full path answers."""
    if current_app.config.get("SESSION_PROTECTION", "basic") == "strong":
        return False  # Flask-Login may end the session on this request: let it
    viewer = parse_session_id(session.get("_user_id"))
    key = request.args.get("context", "")
    if viewer is None or not (key == PRIVATE or key.startswith("class-")):
        return False
    classroom_id = parse_row_id(key[6:]) if key != PRIVATE else None
    if key != PRIVATE and classroom_id is None:
        return False
    return anything_since(db.engine, slug, classroom_id, viewer, held_shares(), cursor) is False


def students_in(context):
    """For the sidebar's student filter: the class's members (instructors see it)."""
    if context.classroom is None or not context.is_instructor:
        return []
    return [m for m in members(db.session, context.classroom)]
