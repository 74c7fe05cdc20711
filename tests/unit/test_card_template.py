"""A write's card is drawn without the app's context processors (webapp/reader/cards.py):
the card's templates may use only what render_card gives them and the templates' globals.
A name from a context processor (current_user, request, unread_notifications, ...) would
be drawn as nothing, silently, in every write's answer."""

from __future__ import annotations

from jinja2 import meta

CARD = "partials/_card.html"
# What render_card and its callers pass (annotation, x, oob, colours and the flags), and
# what the card sets for the templates it includes (a, id, url, flag_*, reply_id, parent_id).
GIVEN = {"annotation", "x", "oob", "colours", "editing", "replying", "editing_reply", "audiences"}
SET_IN_CARD = {"a", "id", "url", "flag_key", "flag_what", "reply_id", "parent_id"}


def undeclared_names(environment, name: str) -> dict[str, set[str]]:
    """Each template from `name` down its includes: the names it reads but does not set."""
    found, todo = {}, [name]
    while todo:
        template = todo.pop()
        if template in found:
            continue
        source = environment.loader.get_source(environment, template)[0]
        tree = environment.parse(source)
        found[template] = meta.find_undeclared_variables(tree)
        todo += [t for t in meta.find_referenced_templates(tree) if t]
    return found


def test_the_card_reads_only_its_arguments_and_the_templates_globals(app):
    environment = app.jinja_env
    allowed = GIVEN | SET_IN_CARD | set(environment.globals)
    found = undeclared_names(environment, CARD)
    assert len(found) >= 3  # the card and the forms it includes
    assert {template: names - allowed for template, names in found.items()} == {
        template: set() for template in found
    }


def test_a_context_processors_name_would_be_caught(app):
    processed = set()
    with app.test_request_context("/"):
        for processors in app.template_context_processors.values():
            for processor in processors:
                processed.update(processor())
    only_processed = processed - set(app.jinja_env.globals)
    assert "current_user" in only_processed  # (Flask-Login's)
    assert not only_processed & (GIVEN | SET_IN_CARD)
