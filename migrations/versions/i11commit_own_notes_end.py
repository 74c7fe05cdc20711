"""the index of one's own notes by position also holds their end

Revision ID: i11commit_own_notes_end
Revises: i11anon_page_revision
Create Date: 2026-11-26 14:00:00.000000

A note's write redraws the blocks around it with the author's own notes over them, found
by (author_id, document_id, start) with `start < hi AND end > lo`: every own note starting
before the block's end was looked up in the table for its `end`. With `end` in the index
only the notes that overlap are. Only an index: no row changes, on SQLite and PostgreSQL
alike.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i11commit_own_notes_end'
down_revision = 'i11anon_page_revision'
branch_labels = None
depends_on = None

NAME = 'ix_annotations_author_document_start'


def upgrade():
    op.drop_index(NAME, table_name='annotations')
    op.create_index(NAME, 'annotations', ['author_id', 'document_id', 'start', 'end'], unique=False)


def downgrade():
    op.drop_index(NAME, table_name='annotations')
    op.create_index(NAME, 'annotations', ['author_id', 'document_id', 'start'], unique=False)
