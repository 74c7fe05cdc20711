"""Ids out of the columns' range and control characters in requests, on SQLite.

The checks live in bad_input.py; test_postgres_input.py runs them on PostgreSQL.
"""

from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from tests.functional import bad_input
from tests.functional.bad_input import Site, body_of, build_site

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
ARABIC_INDIC_ONE = "1".translate(ARABIC_INDIC)


@pytest.fixture
def site(app) -> Site:
    return build_site(app)


def test_an_id_out_of_range_in_a_url_is_a_404(site):
    bad_input.check_ids_in_urls(site)


def test_an_id_out_of_range_in_a_query_or_a_form_is_a_4xx(site):
    bad_input.check_ids_in_queries_and_forms(site)


def test_a_session_with_an_out_of_range_user_id_is_logged_out(site):
    bad_input.check_a_session_with_an_out_of_range_user_id(site)


def test_non_ascii_digits_are_not_an_id(app, site):
    # int() reads "١" (Arabic-Indic one) as 1, so "1١" was the row 11.
    urls = app.url_map.bind("localhost")
    assert urls.match("/api/annotations/11") == ("api.annotation", {"annotation_id": 11})
    with pytest.raises(NotFound):
        urls.match(f"/api/annotations/1{ARABIC_INDIC_ONE}")
    response = site.client("ann").get(f"/api/annotations/1{ARABIC_INDIC_ONE}")
    assert response.status_code == 404, body_of(response)


def test_a_control_character_in_the_path_is_a_400(site):
    bad_input.check_control_characters_in_the_path(site)


def test_control_characters_in_a_query_are_dropped(site):
    bad_input.check_control_characters_in_queries(site)


def test_control_characters_in_form_fields_are_dropped(site):
    bad_input.check_control_characters_in_forms(site)
