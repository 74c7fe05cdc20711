"""Notes on one article for export: which ones (through the visibility rule), numbered in
document order, with their visible replies; and the Markdown file made of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from webapp.models import Annotation, Document, Reply, User
from webapp.services.annotations import annotations_for_reader
from webapp.services.discussion import thread_of
from webapp.text.printable import NumberedRange
from webapp.visibility import ReadingContext


@dataclass
class ExportedNote:
    number: int
    annotation: Annotation
    replies: list[tuple[Reply, int]] = field(default_factory=list)  # (reply, depth)

    @property
    def where(self) -> str:
        classroom = self.annotation.classroom
        return classroom.name if classroom is not None else "Only me"


def notes_for_export(
    session: Session, user: User, document: Document, context: ReadingContext | None
) -> list[ExportedNote]:
    """With no context, the user's own notes in every context; else every note visible
    in that context. Document order, notes no longer in the text last; replies as the
    user may see them."""
    annotations = annotations_for_reader(session, user, document, context)
    if context is None:
        annotations = [a for a in annotations if a.author_id == user.id]
    threads = thread_of(session, user, [a.id for a in annotations])
    return [
        ExportedNote(number, annotation, threads.get(annotation.id, []))
        for number, annotation in enumerate(annotations, start=1)
    ]


def numbered_ranges(notes: list[ExportedNote], version_id: int) -> list[NumberedRange]:
    return [
        NumberedRange(n.number, n.annotation.start, n.annotation.end, n.annotation.colour)
        for n in notes
        if n.annotation.version_id == version_id
    ]


# --- Markdown ----------------------------------------------------------------------------------

# Characters that would start Markdown syntax inside a line, and line starts that would
# make a heading, a list, a quote, a rule or a table: escaped so the quote reads as typed.
_INLINE = re.compile(r"([\\`*_\[\]<>|~!]|&(?=#?\w+;))")
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+[.)])")


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that renders as that text."""
    lines = []
    for line in text.split("\n"):
        line = _INLINE.sub(r"\\\1", line)
        line = _LINE_START.sub(
            lambda m: m.group(1) + (m.group(2)[:-1] + "\\" + m.group(2)[-1]), line
        )
        lines.append(line)
    return "\n".join(lines)


def quoted(text: str, depth: int = 1) -> str:
    """Markdown as a block quote (`depth` levels), each line prefixed."""
    prefix = "> " * depth
    return "\n".join((prefix + line).rstrip() for line in text.split("\n"))


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def notes_markdown(
    *,
    title: str,
    byline: str | None,
    article_url: str,
    scope: str,
    exported_by: str,
    exported_at: datetime,
    notes: list[ExportedNote],
    link_for: Callable[[Annotation], str],
) -> str:
    """The notes as one Markdown document: per note its quote, comment, tags, where it was
    posted, a link to its place in the article, and the replies to it."""
    out = [f"# Notes on “{escape_markdown(title)}”", ""]
    if byline:
        out += [f"By {escape_markdown(byline)}  "]
    out += [
        f"Article: <{article_url}>  ",
        f"{escape_markdown(scope)}: {len(notes)} note{'s' if len(notes) != 1 else ''}, "
        f"exported by {escape_markdown(exported_by)} on {_when(exported_at)}",
        "",
    ]
    for note in notes:
        a = note.annotation
        out += ["---", "", f"## Note {note.number}", "", quoted(escape_markdown(a.exact)), ""]
        if a.body_markdown:
            out += [a.body_markdown, ""]
        details = []
        if a.tags:
            details.append("Tags: " + " ".join(f"#{t.name}" for t in a.tags))
        if a.is_question:
            details.append("Question, answered" if a.answered_at else "Question, not answered yet")
        if a.hidden:
            details.append("Hidden from the class by an instructor")
        details.append(
            f"By {escape_markdown(a.author.username)} · {escape_markdown(note.where)} · "
            f"{_when(a.created_at)}"
        )
        if a.is_orphan:
            details.append("No longer in the text (the article changed)")
        else:
            details.append(f"[Open it in the article]({link_for(a)})")
        out += [line + "  " for line in details[:-1]] + [details[-1], ""]
        if note.replies:
            out += [f"### Replies to note {note.number}", ""]
            for reply, depth in note.replies:
                header = f"**{escape_markdown(reply.author.username)}** · {_when(reply.created_at)}"
                out += [quoted(header, depth + 1), quoted("", depth + 1)]
                out += [quoted(reply.body_markdown, depth + 1), ""]
    return "\n".join(out).rstrip() + "\n"
