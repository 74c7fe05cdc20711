"""classrooms.colour_purposes: what each highlight colour means in a class

Revision ID: i8ph_colour_purposes
Revises: i8key_idempotency_keys
Create Date: 2026-11-25 19:00:00.000000

A nullable column added with plain ALTER TABLE: every class keeps the default purposes
until its instructors change them; the downgrade drops the column (and the custom labels).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i8ph_colour_purposes'
down_revision = 'i8key_idempotency_keys'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('classrooms', sa.Column('colour_purposes', sa.JSON(), nullable=True))


def downgrade():
    # SQLite (3.35+) drops a column in place: no table rebuild, so no cascade can fire.
    op.drop_column('classrooms', 'colour_purposes')
