"""comments rendered again: entities decoded once, links only with allowlisted schemes

Comments and replies are rendered (Markdown, then cleaned) once, when saved, and stored.
Those saved before the renderer was fixed could show "&amp;lt;b&amp;gt;" as <b> and carry
links with other schemes (data:, ftp:, ssh:); this renders every stored one again from
its Markdown. Rows are only updated, never added or removed.

Revision ID: i6disc_rerender_comments
Revises: i7web_article_owners
Create Date: 2026-11-26 09:00:00

"""
from alembic import op
import sqlalchemy as sa

from webapp.text.sanitize import render_comment


# revision identifiers, used by Alembic.
revision = 'i6disc_rerender_comments'
down_revision = 'i7web_article_owners'
branch_labels = None
depends_on = None

BATCH = 500


def _rerender(name: str) -> None:
    table = sa.table(
        name,
        sa.column('id', sa.Integer),
        sa.column('body_markdown', sa.Text),
        sa.column('body_html', sa.Text),
    )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(table.c.id, table.c.body_markdown, table.c.body_html)
            .where(table.c.id > last)
            .order_by(table.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row_id, markdown, html in rows:
            fresh = render_comment(markdown) if markdown else ''
            if fresh != html:
                connection.execute(
                    table.update().where(table.c.id == row_id).values(body_html=fresh)
                )
        last = rows[-1][0]


def upgrade():
    _rerender('annotations')
    _rerender('replies')


def downgrade():
    # The HTML rendered now is what the earlier code should have stored: nothing to undo.
    pass
