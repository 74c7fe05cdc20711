"""login sessions, username keys, failed login and join-code attempts

Revision ID: i6acct_sessions_usernames
Revises: 567d4d9c6010
Create Date: 2026-11-25 15:24:11.051285

users.username_key is added with plain ALTER TABLE, never by rebuilding the table in batch
mode: on SQLite (foreign keys on) dropping the old users table during a rebuild deletes
every membership, note and reply through ON DELETE CASCADE.
"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'i6acct_sessions_usernames'
down_revision = '567d4d9c6010'
branch_labels = None
depends_on = None


def username_key(username):
    """models.username_key as of this revision (a migration must not change later)."""
    text = unicodedata.normalize("NFKC", (username or "").strip())
    return unicodedata.normalize("NFKC", text.casefold()).strip()


users = sa.table(
    "users", sa.column("id", sa.Integer), sa.column("username", sa.String), sa.column("username_key", sa.String)
)
login_attempts = sa.table(
    "login_attempts",
    sa.column("username", sa.String),
    sa.column("remote_addr", sa.String),
    sa.column("at", sa.DateTime),
)
failed_attempts = sa.table(
    "failed_attempts",
    sa.column("kind", sa.String),
    sa.column("subject", sa.String),
    sa.column("client", sa.String),
    sa.column("at", sa.DateTime),
)


def upgrade():
    op.create_table('failed_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('subject', sa.String(length=40), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('failed_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_attempts_at'), ['at'], unique=False)
        batch_op.create_index('ix_failed_attempts_kind_client_at', ['kind', 'client', 'at'], unique=False)
        batch_op.create_index('ix_failed_attempts_kind_subject_at', ['kind', 'subject', 'at'], unique=False)

    op.create_table('login_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_sessions_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_login_sessions_user_id'), ['user_id'], unique=False)

    # Failed logins carry over, counted under the new key.
    connection = op.get_bind()
    rows = connection.execute(sa.select(login_attempts)).all()
    if rows:
        connection.execute(
            failed_attempts.insert(),
            [
                {"kind": "login", "subject": username_key(r.username)[:40], "client": r.remote_addr, "at": r.at}
                for r in rows
            ],
        )
    op.drop_index('ix_login_attempts_username_at', table_name='login_attempts')
    op.drop_index('ix_login_attempts_at', table_name='login_attempts')
    op.drop_table('login_attempts')

    # NOT NULL needs a default to be added in place on SQLite; PostgreSQL drops it below.
    op.add_column(
        'users', sa.Column('username_key', sa.String(length=40), nullable=False, server_default='')
    )
    seen = set()
    for user_id, username in connection.execute(sa.select(users.c.id, users.c.username).order_by(users.c.id)):
        key = username_key(username)
        if key in seen:
            # Two names the old rule let through (it compared with lower()) that are one now:
            # the later keeps its row and logs in as "<name>#<id>".
            suffix = f"#{user_id}"
            key = key[: 40 - len(suffix)] + suffix
        seen.add(key)
        connection.execute(users.update().where(users.c.id == user_id).values(username_key=key))
    op.create_index('ix_users_username_key', 'users', ['username_key'], unique=True)
    if connection.dialect.name != 'sqlite':
        op.alter_column('users', 'username_key', server_default=None)


def downgrade():
    op.drop_index('ix_users_username_key', table_name='users')
    # SQLite (3.35+) drops a column in place; no table rebuild (see the note at the top).
    op.drop_column('users', 'username_key')

    op.create_table('login_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_login_attempts_username_at', 'login_attempts', ['username', 'at'], unique=False)
    op.create_index('ix_login_attempts_at', 'login_attempts', ['at'], unique=False)
    # Failed logins go back; failed join codes had no table before.
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(failed_attempts).where(failed_attempts.c.kind == 'login')
    ).all()
    if rows:
        connection.execute(
            login_attempts.insert(),
            [{"username": r.subject, "remote_addr": r.client, "at": r.at} for r in rows],
        )

    with op.batch_alter_table('login_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_login_sessions_expires_at'))
    op.drop_table('login_sessions')

    with op.batch_alter_table('failed_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_attempts_kind_subject_at')
        batch_op.drop_index('ix_failed_attempts_kind_client_at')
        batch_op.drop_index(batch_op.f('ix_failed_attempts_at'))
    op.drop_table('failed_attempts')
