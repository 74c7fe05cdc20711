"""deadlines with a time and a class time zone, extensions, rubrics, score overrides

Revision ID: i9grd_deadlines_rubrics
Revises: i9cls_roles_groups_archive
Create Date: 2026-11-25 19:00:00.000000

classrooms.time_zone is added with plain ALTER TABLE (server default 'UTC': every class
keeps its rows and reads its due dates as before). Due dates stored as a bare date (read
back as midnight) become that day's 23:59 in UTC, the end of the day they named; due
dates with a time are instants already and stay. Downgrade keeps due_at as it is.
"""
from datetime import date, datetime, time

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i9grd_deadlines_rubrics'
down_revision = 'i9cls_roles_groups_archive'
branch_labels = None
depends_on = None


def _as_datetime(value):
    """A stored due date as a datetime: SQLite may hand back a bare date as text."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return None


def upgrade():
    op.add_column(
        'classrooms',
        sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC'),
    )

    connection = op.get_bind()
    raw = sa.table('assignments', sa.column('id', sa.Integer), sa.column('due_at', sa.String))
    typed = sa.table('assignments', sa.column('id', sa.Integer), sa.column('due_at', sa.DateTime))
    if connection.dialect.name == 'sqlite':
        # Read as text: a bare '2026-12-01' is not what the DateTime type parses.
        found = connection.execute(sa.select(raw.c.id, raw.c.due_at).where(raw.c.due_at.is_not(None)))
    else:
        found = connection.execute(sa.select(typed.c.id, typed.c.due_at).where(typed.c.due_at.is_not(None)))
    for assignment_id, stored in found.all():
        due = _as_datetime(stored)
        if due is None:
            continue
        if due.time() == time():
            due = datetime.combine(due.date(), time(23, 59))
        elif isinstance(stored, datetime):
            continue
        connection.execute(typed.update().where(typed.c.id == assignment_id).values(due_at=due))

    op.create_table('extensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assignment_id', 'user_id')
    )
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extensions_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_extensions_user_id'), ['user_id'], unique=False)

    op.create_table('rubrics',
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('comments_needed', sa.Integer(), nullable=False),
    sa.Column('comment_words', sa.Integer(), nullable=False),
    sa.Column('comment_points', sa.Integer(), nullable=False),
    sa.Column('replies_needed', sa.Integer(), nullable=False),
    sa.Column('reply_points', sa.Integer(), nullable=False),
    sa.Column('questions_needed', sa.Integer(), nullable=False),
    sa.Column('question_points', sa.Integer(), nullable=False),
    sa.Column('upvotes_needed', sa.Integer(), nullable=False),
    sa.Column('upvote_points', sa.Integer(), nullable=False),
    sa.Column('cap', sa.Integer(), nullable=False),
    sa.Column('count_late', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('assignment_id')
    )

    op.create_table('score_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assignment_id'], ['assignments.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['by_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('assignment_id', 'user_id')
    )
    with op.batch_alter_table('score_overrides', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_score_overrides_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_score_overrides_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('score_overrides', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_score_overrides_user_id'))
        batch_op.drop_index(batch_op.f('ix_score_overrides_assignment_id'))
    op.drop_table('score_overrides')
    op.drop_table('rubrics')
    with op.batch_alter_table('extensions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extensions_user_id'))
        batch_op.drop_index(batch_op.f('ix_extensions_assignment_id'))
    op.drop_table('extensions')
    with op.batch_alter_table('classrooms', schema=None) as batch_op:
        batch_op.drop_column('time_zone')
