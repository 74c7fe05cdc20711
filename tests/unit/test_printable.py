"""The printable annotated article: highlights and note numbers, cut at element boundaries."""

from __future__ import annotations

from webapp.text.document import build_layout
from webapp.text.printable import NumberedRange, render_annotated

HTML = "<p>Hello <em>brave new</em> world.</p><p>Second block here.</p>"


def layout():
    return build_layout(HTML)


def test_a_highlight_is_marked_and_its_number_follows_it():
    text = layout().text
    start = text.index("brave")
    html = render_annotated(layout(), [NumberedRange(1, start, start + len("brave new"))])
    assert '<em><mark class="hl hl-yellow depth-1">brave new</mark>' in html
    assert (
        '</mark><sup class="note-ref"><a href="#note-1" aria-label="note 1">1</a></sup></em>'
        in html
    )
    assert "data-o" not in html and 'id="block-' not in html


def test_a_passage_across_elements_and_blocks_is_cut_and_numbered_once_at_its_end():
    text = layout().text
    start, end = text.index("new"), text.index("Second") + len("Second")
    html = render_annotated(layout(), [NumberedRange(3, start, end, "blue")])
    assert html.count('<mark class="hl hl-blue depth-1">') == 3  # "new", " world.", "Second"
    assert html.count("note-ref") == 1
    assert 'Second</mark><sup class="note-ref"><a href="#note-3"' in html


def test_overlaps_deepen_and_numbers_at_one_place_are_listed_together():
    text = layout().text
    start = text.index("Hello")
    end = text.index("new") + len("new")
    ranges = [NumberedRange(1, start, end), NumberedRange(2, text.index("brave"), end, "pink")]
    html = render_annotated(layout(), ranges)
    assert '<mark class="hl hl-pink depth-2">brave new</mark>' in html
    assert '<a href="#note-1" aria-label="note 1">1</a>,<a href="#note-2"' in html


def test_text_is_escaped():
    html = render_annotated(build_layout("<p>a &lt;b&gt; &amp; c</p>"), [])
    assert "a &lt;b&gt; &amp; c" in html
