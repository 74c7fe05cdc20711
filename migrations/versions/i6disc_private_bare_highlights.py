"""bare highlights are their authors' own: older ones posted to a class become private

A highlight without a comment, question or tags is private wherever it is made. Those
posted to a class before that rule move to their author's private notes, unless a
discussion grew on them (replies, votes, flags) or an instructor pinned or hid them:
those stay where the class saw them. Rows are only updated, never added or removed.

Revision ID: i6disc_private_bare_highlights
Revises: i6disc_rerender_comments
Create Date: 2026-11-26 09:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i6disc_private_bare_highlights'
down_revision = 'i6disc_rerender_comments'
branch_labels = None
depends_on = None


def upgrade():
    annotations = sa.table(
        'annotations',
        sa.column('id', sa.Integer),
        sa.column('classroom_id', sa.Integer),
        sa.column('body_markdown', sa.Text),
        sa.column('is_question', sa.Boolean),
        sa.column('pinned', sa.Boolean),
        sa.column('hidden', sa.Boolean),
    )

    def none_in(name: str):
        other = sa.table(name, sa.column('annotation_id', sa.Integer))
        return ~sa.exists().where(other.c.annotation_id == annotations.c.id)

    op.get_bind().execute(
        annotations.update()
        .where(
            annotations.c.classroom_id.is_not(None),
            annotations.c.body_markdown == '',
            annotations.c.is_question.is_(False),
            annotations.c.pinned.is_(False),
            annotations.c.hidden.is_(False),
            none_in('annotation_tags'),
            none_in('replies'),
            none_in('votes'),
            none_in('flags'),
        )
        .values(classroom_id=None)
    )


def downgrade():
    # Which highlights were moved is not recorded, and private is where the rule wants
    # them under any schema: nothing to undo.
    pass
