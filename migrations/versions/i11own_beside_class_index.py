"""a student's own notes beside the class's, found by (author, article, class, hidden)

Revision ID: i11own_beside_class_index
Revises: i11commit_own_notes_end
Create Date: 2026-11-26 17:00:00.000000

A student's class view reads, with the class's notes, their own that it shows beside them:
their bare highlights (no class) and their notes an instructor hid. Found by (author_id,
document_id) alone, every note the student wrote on the article was read for its class and
hidden flag, on every write of theirs and every page. Only an index: no row changes, on
SQLite and PostgreSQL alike.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i11own_beside_class_index'
down_revision = 'i11commit_own_notes_end'
branch_labels = None
depends_on = None

NAME = 'ix_annotations_author_document_class_hidden'


def upgrade():
    op.create_index(
        NAME, 'annotations', ['author_id', 'document_id', 'classroom_id', 'hidden'], unique=False
    )


def downgrade():
    op.drop_index(NAME, table_name='annotations')
