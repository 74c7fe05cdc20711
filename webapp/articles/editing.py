"""Adding an article (paste, upload, web address; preview; publish) and editing one (a new
version, after reviewing what happens to its annotations)."""

from __future__ import annotations

from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user, login_required
from markupsafe import Markup
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from webapp.articles import bp
from webapp.articles.views import get_owned
from webapp.errors import error_response
from webapp.extensions import db
from webapp.htmx import render_view
from webapp.models import ArticleDraft, Document
from webapp.routing import body_limits
from webapp.services import intake
from webapp.services.intake import IntakeError
from webapp.services.versions import KEPT, MOVED, ORPHANED, REATTACHED, ReanchorPlan

# The body of an upload: the file (20 MB) and the form's other fields; the text fields alone
# (300,000 characters, up to 4 bytes each, percent-encoded in a urlencoded form: 3 per byte).
MAX_BODY_BYTES = intake.MAX_UPLOAD_BYTES + 512 * 1024
MAX_FIELDS_BYTES = intake.MAX_TEXT_CHARS * 4 * 3 + 64 * 1024
TOO_LARGE = (
    "That is more than this form takes: a file may be up to 20 MB and pasted text up to "
    "300,000 characters. Nothing was stored."
)
FIELDS = ("way", "text", "url", "title", "byline", "date", "source_url", "draft")


def fetch_options() -> dict:
    """FETCH_ALLOWED_HOSTS: hosts the private-address guard lets the fetcher reach;
    FETCH_TIMEOUT: seconds a fetch may take (10)."""
    config = current_app.config
    return {
        "allowed_hosts": frozenset(config.get("FETCH_ALLOWED_HOSTS") or ()),
        "timeout": float(config.get("FETCH_TIMEOUT", 10)),
    }


def typed() -> dict[str, str]:
    """What the person typed (to show it again with a message); nothing when the body was
    too large to read."""
    if request.method != "POST":
        return {}
    try:
        return {name: request.form.get(name, "") for name in FIELDS}
    except RequestEntityTooLarge:
        return {}


def field_error(error: IntakeError | None) -> dict[str, str]:
    return {"field": error.field, "message": str(error)} if error else {}


def rendered_body(html: str) -> Markup:
    """The body exactly as the reader shows it: preview_extracted renders it with the
    reader's layout and spans, images inline (webapp/services/documents.py)."""
    return Markup(html)


# --- the form ---------------------------------------------------------------------------------


def new_page(status: int = 200, error: IntakeError | None = None, **values):
    shown = {name: "" for name in FIELDS}
    shown.update(typed())
    shown.update(values)
    shown["way"] = shown["way"] if shown["way"] in intake.WAYS else "text"
    return render_view(
        "articles/new.html",
        "content",
        status=status,
        values=shown,
        error=field_error(error),
        max_text=intake.MAX_TEXT_CHARS,
        draft=values.get("draft_row"),
    )


def preview_page(draft: ArticleDraft, overrides: intake.Overrides, status=200, error=None, **extra):
    """The preview: metadata editable, the body as readers will see it, nothing published."""
    article = intake.draft_article(draft)
    shown = intake.preview(article, overrides)
    return render_view(
        extra.pop("template", "articles/preview.html"),
        "content",
        status=status,
        draft=draft,
        preview=shown,
        body=rendered_body(shown.html),
        error=field_error(error),
        **extra,
    )


def chosen_way(draft: ArticleDraft | None) -> str:
    """Which way in this POST uses: the `way` field, else the one of text/file/url given,
    else the draft's."""
    way = request.form.get("way")
    if way in intake.WAYS:
        return way
    given = [w for w in intake.WAYS if has_input(w)]
    if len(given) > 1:
        raise IntakeError(f"Give one of text, file or url, not {' and '.join(given)}.", status=400)
    if given:
        return given[0]
    if draft is not None:
        return draft.way
    raise IntakeError(
        "Paste the article's text, choose its file, or give its web address.", status=400
    )


def has_input(way: str) -> bool:
    if way == "file":
        upload = request.files.get("file")
        return bool(upload and upload.filename)
    return bool(request.form.get(way, "").strip())


def obtain_draft(draft: ArticleDraft | None, document: Document | None = None) -> ArticleDraft:
    """The content of this POST, extracted and kept in a draft (a new one when something
    new was given; the earlier one when not: a large file is sent once)."""
    way = chosen_way(draft)
    owner = current_user._get_current_object()
    if way == "file":
        upload = request.files.get("file")
        if upload and upload.filename:
            data = upload.stream.read(intake.MAX_UPLOAD_BYTES + 1)
            article = intake.from_upload(data, upload.filename, upload.mimetype)
            return intake.save_draft(
                db.session,
                owner,
                article,
                way=way,
                input_name=upload.filename,
                document=document,
            )
    elif way == "url":
        url = request.form.get("url", "").strip()
        if url and not (draft and draft.way == "url" and draft.input_name == url):
            article = intake.from_url(url, **fetch_options())
            return intake.save_draft(
                db.session, owner, article, way=way, input_name=url, document=document
            )
    elif way == "text":
        text = request.form.get("text", "")
        if text.strip() or not (draft and draft.way == "text"):
            article = intake.from_text(text)
            return intake.save_draft(
                db.session, owner, article, way=way, input_text=text, document=document
            )
    if draft is not None and draft.way == way:
        return draft
    raise IntakeError(
        {
            "file": "Choose the article's file.",
            "url": "The web address is empty: paste the article's address.",
        }.get(way, "Paste the article's text."),
        way,
        400,
    )


def back_values(draft: ArticleDraft) -> dict:
    """The form as it was, for "Back": what was pasted or the address, and the draft (so
    a file need not be chosen again)."""
    values = {"way": draft.way, "draft": draft.token, "draft_row": draft}
    if draft.way == "text":
        values["text"] = draft.input_text or ""
    elif draft.way == "url":
        values["url"] = draft.input_name or ""
    return values


@bp.get("/articles/new")
@login_required
def new():
    """The form to add an article: paste, upload or web address."""
    return new_page()


@bp.post("/articles/new")
@body_limits(MAX_BODY_BYTES, MAX_FIELDS_BYTES)
@login_required
def create():
    """Extract what was given; with preview=1 show the preview, else publish the article."""
    owner = current_user._get_current_object()
    draft = intake.load_draft(db.session, owner, request.form.get("draft"))
    if request.form.get("draft") and draft is None:
        return new_page(
            410,
            IntakeError("That preview has expired. Paste, upload or give the address again."),
            draft="",
        )
    if request.form.get("back") and draft is not None:
        return new_page(**back_values(draft))
    try:
        overrides = intake.read_overrides(request.form)
        draft = obtain_draft(draft)
        intake.require_title(draft, overrides)
    except IntakeError as error:
        db.session.rollback()
        return new_page(error.status, error)
    if request.form.get("preview") == "1":
        try:
            response = preview_page(draft, overrides, values=typed())
        except IntakeError as error:
            db.session.rollback()
            return new_page(422, error)
        db.session.commit()
        return response
    try:
        result = intake.publish(db.session, owner, draft, overrides)
    except IntakeError as error:
        db.session.rollback()
        draft = intake.load_draft(db.session, owner, request.form.get("draft"))
        if draft is not None:
            try:
                return preview_page(draft, overrides, error.status, error, values=typed())
            except IntakeError:
                pass  # the draft itself is at fault: back to the form
        return new_page(error.status, error)
    db.session.commit()
    flash("Published. Only you can read it until you assign it to a class or share it.", "info")
    return redirect(url_for("reader.article", slug=result.document.slug))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over the limit (the form could not be read): the form again, with why."""
    db.session.rollback()
    message = IntakeError(TOO_LARGE, "file")
    if request.endpoint == "articles.save" and request.view_args:
        try:
            document = get_owned(request.view_args["slug"])
        except HTTPException as refused:  # not theirs: say that, not the size
            return error_response(refused.code, refused.description)
        return edit_page(document, 413, message)
    if request.endpoint == "articles.create":
        return new_page(413, message)
    return error_response(413, error.description)


# --- a new version ------------------------------------------------------------------------------


def edit_page(document: Document, status: int = 200, error: IntakeError | None = None, **values):
    version = document.current_version
    shown = {
        "way": "edit",
        "text": version.body_markdown,
        "url": version.source_url or "",
        "title": version.title,
        "byline": version.byline or "",
        "date": version.published_text or "",
        "source_url": version.source_url or "",
        "draft": "",
    }
    shown.update({name: value for name, value in typed().items() if name != "way"})
    shown["way"] = typed().get("way") or "edit"
    shown.update(values)
    return render_view(
        "articles/edit.html",
        "content",
        status=status,
        document=document,
        version=version,
        values=shown,
        error=field_error(error),
        max_text=intake.MAX_TEXT_CHARS,
        draft=values.get("draft_row"),
    )


def edited_draft(document: Document, draft: ArticleDraft | None) -> ArticleDraft:
    """The draft of the new version: the Markdown as edited, a new file, or the page
    fetched again."""
    way = request.form.get("way") or ("edit" if "text" in request.form else None)
    if way != "edit":
        return obtain_draft(draft, document)
    text = request.form.get("text", "")
    if not text.strip() and draft is not None and draft.way == "edit":
        return draft
    overrides = intake.read_overrides(request.form)
    article = intake.edited_markdown(db.session, text, document.current_version, overrides)
    return intake.save_draft(
        db.session,
        current_user._get_current_object(),
        article,
        way="edit",
        input_text=text,
        document=document,
    )


def review_page(document: Document, draft: ArticleDraft, overrides, status=200, error=None):
    article = intake.draft_article(draft)
    shown = intake.preview(article, overrides)
    plan = intake.plan_for(db.session, document, shown.text)
    return render_view(
        "articles/review.html",
        "content",
        status=status,
        document=document,
        version=document.current_version,
        draft=draft,
        preview=shown,
        body=rendered_body(shown.html),
        plan=plan,
        shown_outcomes=outcomes_to_show(plan),
        error=field_error(error),
        values=typed(),
    )


def outcomes_to_show(plan: ReanchorPlan) -> dict[str, list]:
    """The outcomes worth listing (live annotations), by kind."""
    listed = {MOVED: [], ORPHANED: [], REATTACHED: [], KEPT: []}
    for outcome in plan.outcomes:
        if outcome.annotation.deleted_at is None and outcome.result in listed:
            listed[outcome.result].append(outcome)
    return listed


@bp.get("/articles/<slug>/edit")
@login_required
def edit(slug: str):
    """The owner's edit form: the Markdown, a new file, or its address fetched again."""
    return edit_page(get_owned(slug))


@bp.post("/articles/<slug>/edit")
@body_limits(MAX_BODY_BYTES, MAX_FIELDS_BYTES)
@login_required
def save(slug: str):
    """With preview=1 (or a new text), review the new version and what happens to the
    annotations; with the reviewed draft and confirm=1, save it as the next version."""
    document = get_owned(slug)
    owner = current_user._get_current_object()
    token = request.form.get("draft")
    draft = intake.load_draft(db.session, owner, token, document)
    if token and draft is None:
        error = IntakeError("That review has expired. Make the change again.")
        return edit_page(document, 410, error, draft="")
    if request.form.get("back") and draft is not None:
        values = back_values(draft)
        if draft.way == "edit":
            values["text"] = draft.input_text or ""
        return edit_page(document, **values)
    try:
        overrides = intake.read_overrides(request.form)
        if not (request.form.get("confirm") == "1" and draft is not None):
            draft = edited_draft(document, draft)
            intake.require_title(draft, overrides)
            response = review_page(document, draft, overrides)
            db.session.commit()
            return response
    except IntakeError as error:
        db.session.rollback()
        return edit_page(document, error.status, error)
    try:
        result = intake.save_version(db.session, owner, document, draft, overrides)
    except IntakeError as error:
        db.session.rollback()
        draft = intake.load_draft(db.session, owner, token, document)
        if draft is not None:
            try:
                return review_page(document, draft, overrides, 409, error)
            except IntakeError:
                pass  # the draft itself is at fault: back to the form
        return edit_page(document, 409, error, draft="")
    db.session.commit()
    if result.status == "unchanged":
        flash("Nothing changed, so no new version was made.", "info")
    else:
        number = document.current_version.number
        flash(
            f"Saved version {number}: {result.reanchored} note"
            f"{'' if result.reanchored == 1 else 's'} in place, {result.orphaned} no longer "
            "in the text.",
            "info",
        )
    return redirect(url_for("reader.article", slug=document.slug))
