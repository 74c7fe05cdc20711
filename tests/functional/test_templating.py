"""The templates' url_for (webapp/templating.py) keeps addresses, and addresses naming a
row as shapes with the id left out: each must be the address Flask builds."""

from __future__ import annotations

from flask import render_template_string, url_for

CASES = [
    ("annotations.edit", {"annotation_id": 7}),
    ("annotations.edit", {"annotation_id": 1234567}),
    ("annotations.edit", {"annotation_id": True}),  # not an int for the kept shapes
    ("discussion.reply_form", {"annotation_id": 5}),  # the same endpoint, other values
    ("annotations.show", {"annotation_id": 12, "_anchor": "reply-3"}),
    ("discussion.reply_form", {"annotation_id": 5, "parent": 9}),
    ("discussion.reply_form", {"annotation_id": 5, "parent": "9"}),
    ("discussion.reply_form", {"annotation_id": 51, "parent": 1987654320}),
    ("classes.remove", {"classroom_id": 3, "user_id": 3}),
    ("reader.article", {"slug": "a-1", "context": "class-2", "offset": 20}),
    ("reader.article", {"slug": "a-1", "context": "class-2", "offset": True}),
    ("discussion.vote", {"annotation_id": 42}),
]


def test_kept_addresses_are_the_ones_flask_builds(app):
    template = "{{ url_for(endpoint, **values)|safe }}"
    for root in ("", "/mounted"):
        for _ in range(2):  # the second time from what was kept
            for endpoint, values in CASES:
                with app.test_request_context("/", environ_base={"SCRIPT_NAME": root}):
                    assert render_template_string(
                        template, endpoint=endpoint, values=values
                    ) == str(url_for(endpoint, **values)), (root, endpoint, values)
