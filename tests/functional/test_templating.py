"""The templates' url_for (webapp/templating.py) keeps addresses, and addresses naming a
row as shapes with the id left out: each must be the address Flask builds."""

from __future__ import annotations

from flask import render_template_string, url_for
from jinja2 import pass_context, pass_environment, pass_eval_context

from webapp.templating import CheapContext, CheapTemplate

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


class Marked:
    """A callable instance whose __call__ takes the context, and a method that does."""

    @pass_context
    def __call__(self, context, suffix):
        return f"{context['who']}{suffix}"

    @pass_environment
    def method(self, environment):
        return str(environment is not None)


def test_calls_pass_what_jinja_passes(app):
    """The app's Context (templating.CheapContext) takes a shorter way for callables that
    cannot ask for the context: those that can still get it, the others their arguments
    alone, in a loop too (where Jinja adds its _loop_vars to each call)."""

    @pass_context
    def named(context):
        return context["who"]

    @pass_eval_context
    def escaping(eval_ctx):
        return str(eval_ctx.autoescape)

    def stops():
        raise StopIteration

    source = (
        "{{ named() }} {{ marked('!') }} {{ marked.method() }} {{ escaping() }}"
        " {{ plain(1, b=2) }} {{ stops() }}|{{ 'a-b'.split('-')|join }}"
        "{% for i in [1] %} {{ plain(i, b=i) }} {{ named() }}{% endfor %}"
    )
    template = app.jinja_env.from_string(source, globals={"plain": lambda a, b: a + b})
    assert isinstance(template, CheapTemplate) and isinstance(template.new_context(), CheapContext)
    assert template.render(
        who="me", named=named, marked=Marked(), escaping=escaping, stops=stops
    ) == ("me me! True True 3 |ab 2 me")


def test_a_render_sees_the_globals_under_its_own_names(app):
    """The app's Template (templating.CheapTemplate) copies the globals its own way: the
    template's globals over the app's, the names given to the render over both."""
    app.jinja_env.globals["shade"] = "app"
    template = app.jinja_env.from_string(
        "{{ shade }} {{ kind }} {{ given }}", globals={"kind": "template"}
    )
    assert template.render(given="render") == "app template render"
    assert template.render(shade="render", kind="render") == "render render "
