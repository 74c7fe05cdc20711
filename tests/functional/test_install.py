"""What `make run` installs (the package, no extras) is enough for `DATABASE_URL=postgresql://`."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import packages_distributions

import pytest
import sqlalchemy as sa

from tests.conftest import PROJECT_ROOT
from webapp.config import load_config


def main_dependencies() -> set[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    names = (re.match(r"[A-Za-z0-9_.-]+", spec).group() for spec in project["dependencies"])
    return {name.lower().replace("_", "-") for name in names}


@pytest.mark.parametrize(
    "database_url",
    ["postgresql://postgres@127.0.0.1/db", "postgres://postgres@127.0.0.1/db"],
)
def test_the_postgresql_driver_is_a_main_dependency(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    uri = load_config(tmp_path)["SQLALCHEMY_DATABASE_URI"]
    driver = sa.engine.make_url(uri).get_dialect().import_dbapi()
    top_level = driver.__name__.partition(".")[0]
    distributions = {name.lower() for name in packages_distributions()[top_level]}
    assert distributions & main_dependencies(), f"{uri}: install {distributions} with the app"
