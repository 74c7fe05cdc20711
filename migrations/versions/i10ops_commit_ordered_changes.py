"""live changes: a per-document sequence taken at commit (seq), and its counters

Revision ID: i10ops_commit_ordered_changes
Revises: i6acct_sessions_usernames
Create Date: 2026-11-27 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i10ops_commit_ordered_changes'
down_revision = 'i6acct_sessions_usernames'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('change_counters',
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('document_id')
    )
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
    # Existing rows keep their id as their place in the log: the cursors of pages open
    # during the upgrade stay valid, and every document's counter starts at its last id.
    op.execute("UPDATE changes SET seq = id")
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_index('ix_changes_document_id_id')
        batch_op.create_index('ix_changes_document_id_seq', ['document_id', 'seq'], unique=True)
    op.execute(
        "INSERT INTO change_counters (document_id, last_seq) "
        "SELECT document_id, MAX(seq) FROM changes GROUP BY document_id"
    )


def downgrade():
    with op.batch_alter_table('changes', schema=None) as batch_op:
        batch_op.drop_index('ix_changes_document_id_seq')
        batch_op.create_index('ix_changes_document_id_id', ['document_id', 'id'], unique=False)
        batch_op.drop_column('seq')
    op.drop_table('change_counters')
