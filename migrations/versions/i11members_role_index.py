"""a class's instructors found by (class, role)

Revision ID: i11members_role_index
Revises: i11own_beside_class_index
Create Date: 2026-11-26 20:30:00.000000

The reader's article statement and every note's create in a class read the class's
instructors (the shared view's key, the card's badge). Found by the class alone, every
membership of the class was read for its role: 300 rows for a course, on every page and
write. Only an index: no row changes, on SQLite and PostgreSQL alike.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'i11members_role_index'
down_revision = 'i11own_beside_class_index'
branch_labels = None
depends_on = None

NAME = 'ix_memberships_classroom_role_user'


def upgrade():
    op.create_index(NAME, 'memberships', ['classroom_id', 'role', 'user_id'], unique=False)


def downgrade():
    op.drop_index(NAME, table_name='memberships')
