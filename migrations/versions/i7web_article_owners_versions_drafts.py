"""articles from the browser: owners, archive, share links, version authors, original
quotes of annotations, drafts between preview and publication

Revision ID: i7web_article_owners
Revises: i7ext_document_assets (chained after the i7-extract merge; was 567d4d9c6010)
Create Date: 2026-11-26 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i7web_article_owners'
down_revision = 'i7ext_document_assets'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('archived_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('share_token', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_owner_id'), ['owner_id'], unique=False)
        batch_op.create_unique_constraint('uq_documents_share_token', ['share_token'])
        batch_op.create_foreign_key('fk_documents_owner_id_users', 'users', ['owner_id'], ['id'])

    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('summary', sa.String(length=500), nullable=True))
        batch_op.create_foreign_key(
            'fk_document_versions_created_by_id_users', 'users', ['created_by_id'], ['id']
        )

    # The quote each annotation was made on: today's quote is the best record there is.
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('original_exact', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('original_prefix', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('original_suffix', sa.String(length=200), nullable=True))
    op.execute(
        'UPDATE annotations SET original_exact = exact, original_prefix = prefix, '
        'original_suffix = suffix'
    )
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.alter_column('original_exact', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column(
            'original_prefix', existing_type=sa.String(length=200), nullable=False
        )
        batch_op.alter_column(
            'original_suffix', existing_type=sa.String(length=200), nullable=False
        )

    op.create_table('article_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=True),
    sa.Column('base_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('way', sa.String(length=10), nullable=False),
    sa.Column('input_text', sa.Text(), nullable=True),
    sa.Column('input_name', sa.String(length=2000), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=True),
    sa.Column('byline', sa.String(length=500), nullable=True),
    sa.Column('date_text', sa.String(length=100), nullable=True),
    sa.Column('source_url', sa.String(length=2000), nullable=True),
    sa.Column('body_markdown', sa.Text(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['base_version_id'], ['document_versions.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token')
    )
    with op.batch_alter_table('article_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_drafts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_drafts_document_id'), ['document_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_article_drafts_owner_id'), ['owner_id'], unique=False)

    op.create_table('article_draft_images',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('draft_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('alt', sa.Text(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['draft_id'], ['article_drafts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('article_draft_images', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_article_draft_images_draft_id'), ['draft_id'], unique=False)


def downgrade():
    # Without owners, every article is public: refuse rather than publish private ones.
    owned = op.get_bind().execute(
        sa.text('SELECT count(*) FROM documents WHERE owner_id IS NOT NULL')
    ).scalar()
    if owned:
        raise RuntimeError(
            f'{owned} article(s) were added in the browser and belong to their owners; '
            'this downgrade would make them public. Delete them first, or stay on this version.'
        )

    with op.batch_alter_table('article_draft_images', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_draft_images_draft_id'))
    op.drop_table('article_draft_images')

    with op.batch_alter_table('article_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_article_drafts_owner_id'))
        batch_op.drop_index(batch_op.f('ix_article_drafts_document_id'))
        batch_op.drop_index(batch_op.f('ix_article_drafts_created_at'))
    op.drop_table('article_drafts')

    # An annotation keeps its current quote; the one it was made on goes with the columns.
    with op.batch_alter_table('annotations', schema=None) as batch_op:
        batch_op.drop_column('original_suffix')
        batch_op.drop_column('original_prefix')
        batch_op.drop_column('original_exact')

    with op.batch_alter_table('document_versions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_document_versions_created_by_id_users', type_='foreignkey')
        batch_op.drop_column('summary')
        batch_op.drop_column('created_by_id')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint('fk_documents_owner_id_users', type_='foreignkey')
        batch_op.drop_constraint('uq_documents_share_token', type_='unique')
        batch_op.drop_index(batch_op.f('ix_documents_owner_id'))
        batch_op.drop_column('share_token')
        batch_op.drop_column('archived_at')
        batch_op.drop_column('owner_id')
