"""The migration chain as the migrations folder has it, for tests of one migration."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from tests.conftest import PROJECT_ROOT


def revision_before(revision: str) -> str:
    """The revision a migration upgrades from: tests of one migration downgrade to it, so
    they keep working whatever migrations are added before theirs."""
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    down = ScriptDirectory.from_config(config).get_revision(revision).down_revision
    assert isinstance(down, str), f"{revision} does not follow exactly one revision"
    return down
