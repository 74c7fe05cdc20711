"""class groups and their members, assignment mode, archived classes, flag reviews

Revision ID: i9cls_roles_groups_archive
Revises: i11perf_position_indexes
Create Date: 2026-11-25 19:00:00.000000

classrooms.archived_at and assignments.mode are added with plain ALTER TABLE (no
rebuild of tables others point at); every existing assignment reads as a whole class
("class"). flags gains who reviewed a flag and what they did, and an index on reply_id
(replies are flagged from the card too).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i9cls_roles_groups_archive'
down_revision = 'i11perf_position_indexes'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('classrooms', sa.Column('archived_at', sa.DateTime(), nullable=True))
    op.add_column(
        'assignments',
        sa.Column('mode', sa.String(length=10), nullable=False, server_default='class'),
    )

    op.create_table('class_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['classroom_id'], ['classrooms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('class_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_class_groups_classroom_id'), ['classroom_id'], unique=False)

    op.create_table('group_members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('classroom_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['classroom_id'], ['classrooms.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['group_id'], ['class_groups.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('classroom_id', 'user_id', name='uq_group_members_classroom_user')
    )
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_members_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_members_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=10), nullable=True))
        batch_op.create_foreign_key(
            'fk_flags_resolved_by_id_users', 'users', ['resolved_by_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.create_index(batch_op.f('ix_flags_reply_id'), ['reply_id'], unique=False)


def downgrade():
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flags_reply_id'))
        batch_op.drop_constraint('fk_flags_resolved_by_id_users', type_='foreignkey')
        batch_op.drop_column('outcome')
        batch_op.drop_column('resolved_by_id')
    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_group_members_group_id'))
    op.drop_table('group_members')
    with op.batch_alter_table('class_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_class_groups_classroom_id'))
    op.drop_table('class_groups')
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('mode')
    with op.batch_alter_table('classrooms', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
