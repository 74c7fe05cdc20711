"""Command-line tools: `flask --app webapp COMMAND`."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask_migrate import upgrade

from webapp.extensions import db
from webapp.services.accounts import AccountError, create_user
from webapp.services.documents import import_article, import_directory, read_article_file
from webapp.text.importer import ArticleFormatError


def _describe(path: Path, result) -> str:
    line = f"{result.status:9} {result.document.slug}  ({path.name})"
    if result.reanchored or result.orphaned:
        line += f"  re-anchored {result.reanchored}, orphaned {result.orphaned}"
    return line


@click.command("import-article")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def import_article_command(path: Path) -> None:
    """Import one article (Markdown in the seed's shape); re-importing is harmless."""
    try:
        result = import_article(db.session, read_article_file(path), path.name)
    except ArticleFormatError as error:
        db.session.rollback()
        raise click.ClickException(f"cannot import {path}: {error}") from None
    db.session.commit()
    click.echo(_describe(path, result))


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


def init_app(app: Flask) -> None:
    for command in (import_article_command, seed_command, init_command, create_user_command):
        app.cli.add_command(command)
