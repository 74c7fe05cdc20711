"""indexes that find annotations by position, per class and per author; recent writes

Revision ID: i11perf_position_indexes
Revises: i9ppl_notifications_accounts
Create Date: 2026-11-25 19:30:00.000000

Only indexes: no row changes, on SQLite and PostgreSQL alike.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i11perf_position_indexes'
down_revision = 'i9ppl_notifications_accounts'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_annotations_document_class_start', 'annotations',
     ['document_id', 'classroom_id', 'start', 'end']),
    ('ix_annotations_author_document_start', 'annotations', ['author_id', 'document_id', 'start']),
    ('ix_annotations_author_created', 'annotations', ['author_id', 'created_at']),
    ('ix_replies_author_created', 'replies', ['author_id', 'created_at']),
]


def upgrade():
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
