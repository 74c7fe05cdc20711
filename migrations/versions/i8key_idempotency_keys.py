"""idempotency keys on annotations and replies: a repeated write is answered, not doubled

Each new note or reply may carry the key its page made for it; the key is unique per
author, so a retried request finds the row it already saved. Existing rows keep a NULL
key (NULLs never collide). Plain ALTER TABLE both ways: no table is rebuilt.

Revision ID: i8key_idempotency_keys
Revises: i9grd_deadlines_rubrics
Create Date: 2026-11-25 19:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i8key_idempotency_keys'
down_revision = 'i9grd_deadlines_rubrics'
branch_labels = None
depends_on = None

TABLES = ('annotations', 'replies')


def upgrade():
    for table in TABLES:
        op.add_column(table, sa.Column('idempotency_key', sa.String(length=64), nullable=True))
        op.create_index(
            f'uq_{table}_author_idempotency', table, ['author_id', 'idempotency_key'], unique=True
        )


def downgrade():
    for table in TABLES:
        op.drop_index(f'uq_{table}_author_idempotency', table_name=table)
        op.drop_column(table, 'idempotency_key')
