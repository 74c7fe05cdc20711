"""page_revision: a counter bumped by triggers on every write to documents and versions

Revision ID: i11anon_page_revision
Revises: i8ph_colour_purposes
Create Date: 2026-11-26 01:30:00.000000

The anonymous page cache (webapp/page_cache.py) is validated by this one row: a write to
`documents` or `document_versions` bumps it in the same transaction, whoever writes (the
ORM, a bulk statement, the command line, raw SQL). SQLite triggers are per row; PostgreSQL's
per statement, through one function. A later migration that rebuilds either table on
SQLite (batch mode) drops its triggers with the old table: it must call create_triggers.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "i11anon_page_revision"
down_revision = "i8ph_colour_purposes"
branch_labels = None
depends_on = None

TABLES = ("documents", "document_versions")
EVENTS = ("INSERT", "UPDATE", "DELETE")
BUMP = "UPDATE page_revision SET revision = revision + 1 WHERE id = 1"


def create_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION bump_page_revision() RETURNS trigger AS $$ "
            f"BEGIN {BUMP}; RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_page_revision ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_bump_page_revision "
                f"AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE PROCEDURE bump_page_revision()"
            )
        return
    for table in TABLES:
        for event in EVENTS:
            name = f"{table}_{event.lower()}_bumps_page_revision"
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} BEGIN {BUMP}; END")


def drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_page_revision ON {table}")
        op.execute("DROP FUNCTION IF EXISTS bump_page_revision()")
        return
    for table in TABLES:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_{event.lower()}_bumps_page_revision")


def upgrade():
    page_revision = op.create_table(
        "page_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(page_revision, [{"id": 1, "revision": 0}])
    create_triggers()


def downgrade():
    drop_triggers()
    op.drop_table("page_revision")
