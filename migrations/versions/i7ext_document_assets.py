"""document assets: images copied into articles

Revision ID: i7ext_document_assets
Revises: 567d4d9c6010
Create Date: 2026-11-25 15:26:16.041013

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i7ext_document_assets'
down_revision = '567d4d9c6010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('document_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('digest')
    )
    op.create_table('version_assets',
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['document_assets.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['document_versions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('version_id', 'asset_id')
    )
    with op.batch_alter_table('version_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_version_assets_asset_id'), ['asset_id'], unique=False)



def downgrade():
    with op.batch_alter_table('version_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_version_assets_asset_id'))

    op.drop_table('version_assets')
    op.drop_table('document_assets')
