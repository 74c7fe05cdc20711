"""drop the single-column author_id indexes of annotations and replies

Revision ID: i11drop_author_id_indexes
Revises: i11members_role_index
Create Date: 2026-11-27 07:00:00.000000

Every other index of both tables that names the author starts with author_id (the
idempotency keys, the write-rate checks' (author_id, created_at), the notes found by
position): each finds a user's rows as this one did, so this one was only written, on
every note and every reply. Only indexes: no row changes, on SQLite and PostgreSQL alike.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i11drop_author_id_indexes'
down_revision = 'i11members_role_index'
branch_labels = None
depends_on = None

INDEXES = (('ix_annotations_author_id', 'annotations'), ('ix_replies_author_id', 'replies'))


def upgrade():
    for name, table in INDEXES:
        op.drop_index(name, table_name=table)


def downgrade():
    for name, table in INDEXES:
        op.create_index(name, table, ['author_id'], unique=False)
