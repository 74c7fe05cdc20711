"""Command-line tools: `flask --app webapp COMMAND`."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import quote

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask_migrate import upgrade

from webapp.database import write_intent
from webapp.extensions import db
from webapp.services.accounts import AccountError, create_user
from webapp.services.demo import DemoError, set_up_demo
from webapp.services.documents import extract_file, import_directory, import_extracted
from webapp.text.fetch import fetch_article, is_web_address
from webapp.text.importer import ArticleFormatError

# Document.source_name's size: a longer web address is named by its digest.
_MAX_SOURCE_NAME = 255


def _describe(path: Path | str, result) -> str:
    name = path.name if isinstance(path, Path) else path
    line = f"{result.status:9} {result.document.slug}  ({name})"
    if result.reanchored or result.orphaned:
        line += f"  re-anchored {result.reanchored}, orphaned {result.orphaned}"
    return line


@click.command("import-article")
@click.argument("source")
def import_article_command(source: str) -> None:
    """Import one article: a file (Markdown, text, HTML, Word .docx or PDF, judged by its
    content) or an http(s) web address. Re-importing the same article changes nothing."""
    try:
        if is_web_address(source):
            article = fetch_article(source, allowed_hosts=current_app.config["FETCH_ALLOWED_HOSTS"])
            name = source
            if len(name) > _MAX_SOURCE_NAME:
                name = "url:" + hashlib.sha256(source.encode("utf-8")).hexdigest()
            label: Path | str = source
        else:
            label = Path(source)
            article = extract_file(label)
            name = label.name
        result = import_extracted(db.session, article, source_name=name, owner_id=None)
    except ArticleFormatError as error:
        db.session.rollback()
        raise click.ClickException(f"cannot import {source}: {error}") from None
    db.session.commit()
    click.echo(_describe(label, result))
    for note in article.notes:
        click.echo(f"  note: {note}")


@click.command("seed")
def seed_command() -> None:
    """Import every article in the seeds folder."""
    folder = Path(current_app.config["SEEDS_DIR"])
    if not folder.is_dir():
        raise click.ClickException(f"no seeds folder at {folder}")
    try:
        results = import_directory(db.session, folder)
    except ArticleFormatError as error:
        db.session.rollback()
        raise click.ClickException(f"cannot import the seeds: {error}") from None
    db.session.commit()
    for path, result in results:
        click.echo(_describe(path, result))


@click.command("init")
@click.pass_context
def init_command(ctx: click.Context) -> None:
    """Create or upgrade the database schema, then import the seeds."""
    upgrade()
    ctx.invoke(seed_command)


@click.command("create-user")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user_command(username: str, password: str) -> None:
    """Create an account."""
    try:
        user = create_user(db.session, username, password)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"created user {user.username}")


@click.command("demo")
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, help="Where the app runs."
)
def demo_command(base_url: str) -> None:
    """Create a demo class (an instructor, three students, a discussion) and print logins."""
    if not sa.inspect(db.engine).has_table("classrooms"):
        raise click.ClickException("no database yet: run `flask --app webapp init` first")
    token = write_intent.set(True)  # read then write: take SQLite's write lock up front
    try:
        demo = set_up_demo(db.session, Path(current_app.config["SEEDS_DIR"]))
        db.session.commit()
    except DemoError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    finally:
        write_intent.reset(token)
    base = base_url.rstrip("/")
    classroom = demo.classroom
    reader = f"{base}/articles/{quote(demo.document.slug)}?context=class-{classroom.id}"
    click.echo(
        "Demo class created."
        if demo.created
        else f"The demo exists already ({demo.instructor}); here are its logins again."
    )
    click.echo(
        f"""
  Log in at   {base}/login
  instructor  {demo.instructor}
  students    {", ".join(demo.students)}
  password    {demo.password}   (the same for all four)

  Class       {classroom.name} (join code {classroom.join_code})
  Read it     {reader}
  As the instructor, see who took part:
              {base}/classes/{classroom.id}/participation

  These accounts have a published password: do not run `demo` on a public server."""
    )


def init_app(app: Flask) -> None:
    for command in (
        import_article_command,
        seed_command,
        init_command,
        create_user_command,
        demo_command,
    ):
        app.cli.add_command(command)
