"""Command-line tools: `flask --app webapp COMMAND`."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import threading
from pathlib import Path
from urllib.parse import urlsplit

import click
import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask_migrate import upgrade

from webapp.database import sqlite_file, write_intent
from webapp.extensions import db
from webapp.services import backup
from webapp.services.accounts import AccountError, create_user
from webapp.services.demo import DemoError, set_up_demo
from webapp.services.documents import (
    extract_file,
    import_directory,
    import_extracted,
)
from webapp.services.health import known_revisions
from webapp.services.smtp import SmtpSettings
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


def served_at() -> str:
    """The app's address: SERVER_NAME when configured, else HOST and PORT as `make run` uses
    them (an address that listens everywhere is reached on loopback)."""
    config = current_app.config
    if server_name := config.get("SERVER_NAME"):
        root = (config.get("APPLICATION_ROOT") or "/").rstrip("/")
        return f"{config['PREFERRED_URL_SCHEME']}://{server_name}{root}"
    host = os.environ.get("HOST") or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]"}:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{os.environ.get('PORT') or '5000'}"


def _check_base_url(_ctx, _param, value: str | None) -> str | None:
    if value is not None:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise click.BadParameter("give the address readers open, e.g. http://host:8000")
    return value


@click.command("demo")
@click.option(
    "--base-url",
    callback=_check_base_url,
    help="The address readers open (default: SERVER_NAME, else http://HOST:PORT as for "
    "`make run`, else http://127.0.0.1:5000).",
)
def demo_command(base_url: str | None) -> None:
    """Create a demo class (an instructor, three students, a discussion) and print logins."""
    if not sa.inspect(db.engine).has_table("classrooms"):
        raise click.ClickException("no database yet: run `flask --app webapp init` first")
    token = write_intent.set(True)  # read then write: take SQLite's write lock up front
    try:
        demo = set_up_demo(db.session, Path(current_app.config["SEEDS_DIR"]))
        db.session.commit()
    except (DemoError, ArticleFormatError) as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    finally:
        write_intent.reset(token)
    # Links built by the app's own routes, under the address (and any path prefix) it runs at.
    with current_app.test_request_context(base_url=(base_url or served_at()).rstrip("/") + "/"):
        _print_demo(demo)


def _print_demo(demo) -> None:
    classroom = demo.classroom
    reader = url_for(
        "reader.article", slug=demo.document.slug, context=f"class-{classroom.id}", _external=True
    )
    report = url_for("reports.participation", classroom_id=classroom.id, _external=True)
    click.echo(
        "Demo class created."
        if demo.created
        else f"The demo exists already ({demo.instructor}); here are its logins again."
    )
    click.echo(
        f"""
  Log in at   {url_for("auth.login", _external=True)}
  instructor  {demo.instructor}
  students    {", ".join(demo.students)}
  password    {demo.password}   (the same for all four)

  Class       {classroom.name} (join code {classroom.join_code})
  Read it     {reader}
  As the instructor, see who took part:
              {report}

  These accounts have a published password: do not run `demo` on a public server."""
    )


SECRET_KEY_REMINDER = (
    "Keep instance/secret_key (or your SECRET_KEY) with it: sessions are signed with it."
)


def _known_revisions() -> frozenset[str]:
    return known_revisions(current_app.extensions["migrate"].directory)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_command(path: Path) -> None:
    """Copy the live database to PATH, consistently, while the app keeps serving."""
    engine = db.engine
    try:
        if engine.dialect.name == "sqlite":
            snapshot = backup.sqlite_backup(sqlite_file(engine), path, _known_revisions())
            click.echo(f"Backed up {sqlite_file(engine)} to {path}: {snapshot}.")
        else:
            command = backup.postgres_backup(engine.url, path)
            click.echo(f"Backed up with: {command}")
    except backup.ToolMissing as missing:
        raise click.ClickException(f"{missing}\n  " + "\n  ".join(missing.commands)) from None
    except backup.BackupError as error:
        raise click.ClickException(f"no backup made: {error}") from None
    click.echo(SECRET_KEY_REMINDER)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that already holds data.")
def restore_command(path: Path, force: bool) -> None:
    """Put a backup made by `backup` in place of the database, then upgrade its schema."""
    engine = db.engine
    known = _known_revisions()
    try:
        if engine.dialect.name == "sqlite":
            target = sqlite_file(engine)
            snapshot = backup.inspect_sqlite_backup(path, known)
            if backup.sqlite_holds_data(target) and not force:
                raise backup.BackupError(
                    f"{target} already holds a database; add --force to replace it "
                    "(back it up first)"
                )
            engine.dispose()
            backup.sqlite_restore(path, target)
            click.echo(f"Restored {path} into {target}: {snapshot}.")
        else:
            revision = backup.postgres_restore(engine, path, known, force)
            click.echo(f"Restored {path} (migration {revision}).")
    except backup.ToolMissing as missing:
        raise click.ClickException(f"{missing}\n  " + "\n  ".join(missing.commands)) from None
    except backup.BackupError as error:
        raise click.ClickException(f"nothing restored: {error}") from None
    upgrade()
    click.echo("The schema is at the current migration. Restart the app servers.")


@click.command("send-mail")
@click.option("--once", is_flag=True, help="Send what is due now, then exit.")
@click.option(
    "--interval",
    default=5.0,
    type=click.FloatRange(0.1, 3600),
    help="Seconds between passes over the outbox (default 5).",
)
@click.option(
    "--batch",
    default=20,
    type=click.IntRange(1, 1000),
    help="Messages claimed at a time (default 20).",
)
def send_mail_command(once: bool, interval: float, batch: int) -> None:
    """Send notification and account e-mail from the outbox, and make deadline reminders.

    Runs until stopped (SIGTERM or Ctrl-C); one per host is safe (senders claim messages
    in the database, and a claim left by a sender that died is taken again later).
    """
    from webapp.notifications.mailer import send_pending

    settings = SmtpSettings.from_config(current_app.config)
    if settings is None:
        raise click.ClickException("SMTP_HOST is not set: this server sends no e-mail")
    if not settings.sender:
        raise click.ClickException("SMTP_FROM is not set: say which address e-mail is from")
    base_url = current_app.config["BASE_URL"] or served_at()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s send-mail: %(message)s")
    stop = threading.Event()
    if not once:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
    click.echo(f"send-mail: to {settings.host}:{settings.port}, links to {base_url}")
    while not stop.is_set():
        try:
            app = current_app._get_current_object()
            report = send_pending(app, settings, base_url, batch=batch)
        except Exception as error:
            db.session.rollback()
            if once:
                raise click.ClickException(f"sending failed: {error}") from None
            # The database busy or away, or a bug: log it, keep the loop alive.
            logging.getLogger(__name__).exception("send-mail pass failed")
            report = None
        if report is not None and (report.busy or once):
            click.echo(f"send-mail: {report}")
        if once:
            break
        stop.wait(interval)


def init_app(app: Flask) -> None:
    for command in (
        send_mail_command,
        import_article_command,
        seed_command,
        init_command,
        create_user_command,
        demo_command,
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)
