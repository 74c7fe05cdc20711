"""The canonical text and block layout that every offset in the app points into."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from webapp.text.document import (
    BLOCK_SEPARATOR,
    CloseTag,
    OpenTag,
    VoidTag,
    build_layout,
)
from webapp.text.importer import parse_article
from webapp.text.sanitize import render_article

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_959b789aad009a97.txt"


def seed_html() -> str:
    return render_article(parse_article(SEED.read_text(encoding="utf-8")).body_markdown)


def block_texts(html: str) -> list[str]:
    layout = build_layout(html)
    return [layout.text[block.start : block.end] for block in layout.blocks]


def assert_consistent(html: str):
    """Blocks index the text, runs tile their block, blocks are joined by the separator."""
    layout = build_layout(html)
    text = layout.text
    pieces = []
    for number, block in enumerate(layout.blocks):
        assert block.id == f"block-{number}"
        assert 0 <= block.start < block.end <= len(text)
        runs_text = "".join(run.text for run in block.runs)
        assert text[block.start : block.end] == runs_text
        position = block.start
        for run in block.runs:
            assert run.start == position and run.text
            assert text[run.start : run.end] == run.text
            position = run.end
        assert position == block.end
        assert block.sentences and block.sentences[0] == block.start
        assert all(block.start <= s < block.end for s in block.sentences)
        pieces.append(runs_text)
    assert text == BLOCK_SEPARATOR.join(pieces)
    return layout


# -- normalization --------------------------------------------------------------------------


def test_text_is_nfc_normalized():
    layout = assert_consistent("<p>caf<em>e\u0301</em> and e\u0301te\u0301 \u212b</p>")
    assert layout.text == "café and été \u00c5"
    assert unicodedata.is_normalized("NFC", layout.text)
    assert len(layout.text) == 14


def test_nfc_keeps_compatibility_characters():
    # NFC, not NFKC: the ligature and the superscript are what the reader sees.
    assert build_layout("<p>\ufb01ne x\u00b2</p>").text == "\ufb01ne x\u00b2"


def test_hangul_jamo_compose():
    assert build_layout("<p>\u1112\u1161\u11ab</p>").text == "\ud55c"


def test_character_references_are_decoded():
    layout = build_layout("<p>a &amp; b &lt;c&gt; &quot;d&quot; &#x1F389; &eacute;</p>")
    assert layout.text == 'a & b <c> "d" 🎉 é'


# -- whitespace -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<p>  leading and trailing  </p>", "leading and trailing"),
        ("<p>tabs\tand\nnewlines \r\n here</p>", "tabs and newlines here"),
        ("<p>a <em> b </em> c</p>", "a b c"),
        ("<p>a<em> </em>b</p>", "a b"),
        ("<p><em>a </em> <strong> b</strong></p>", "a b"),
        ("<p> <em>a</em> <strong>b</strong> </p>", "a b"),
        ("<p>x<strong>y</strong>z</p>", "xyz"),
        ("<p>no\u00a0\u00a0break</p>", "no\u00a0\u00a0break"),
        ("<p>end <em>space </em></p>", "end space"),
    ],
)
def test_whitespace_collapses_like_a_browser(html, expected):
    layout = assert_consistent(html)
    assert layout.text == expected


def test_line_breaks_become_newlines_without_surrounding_spaces():
    layout = assert_consistent("<p>one <br>\n two<br/>three</p>")
    assert layout.text == "one\ntwo\nthree"
    breaks = [run for run in layout.blocks[0].runs if run.is_break]
    assert [run.text for run in breaks] == ["\n", "\n"]


def test_two_line_breaks_stay_two_newlines():
    assert assert_consistent("<p>a<br><br>b</p>").text == "a\n\nb"


def test_trailing_line_break_adds_nothing():
    layout = assert_consistent("<p>last line<br></p><p>next</p>")
    assert layout.text == "last line\n\nnext"
    assert layout.blocks[0].end == len("last line")


def test_preformatted_text_keeps_its_spaces():
    layout = assert_consistent("<pre><code>def f():\n    return  1\n</code></pre>")
    assert layout.text == "def f():\n    return  1"
    assert layout.blocks[0].tag == "pre"


# -- blocks ---------------------------------------------------------------------------------


def test_blocks_are_joined_by_the_separator_and_index_the_text():
    html = "<h1>Title</h1><p>First <em>para</em>.</p><hr><p>Second.</p>"
    layout = assert_consistent(html)
    assert layout.text == "Title\n\nFirst para.\n\nSecond."
    assert [(b.id, b.tag, b.start, b.end) for b in layout.blocks] == [
        ("block-0", "h1", 0, 5),
        ("block-1", "p", 7, 18),
        ("block-2", "p", 20, 27),
    ]
    assert VoidTag("hr") in layout.items


def test_empty_blocks_take_no_offsets():
    layout = assert_consistent("<p></p><p> </p><p>only</p><p>\n</p>")
    assert layout.text == "only"
    assert [b.id for b in layout.blocks] == ["block-0"]


def test_nested_lists_give_one_block_per_leaf():
    html = (
        "<ul><li>alpha<ul><li>beta</li><li>gamma<ol><li>delta</li></ol></li></ul></li>"
        "<li>epsilon</li></ul>"
    )
    layout = assert_consistent(html)
    assert block_texts(html) == ["alpha", "beta", "gamma", "delta", "epsilon"]
    assert layout.text == "alpha\n\nbeta\n\ngamma\n\ndelta\n\nepsilon"
    # The list structure survives around the leaves.
    opened = [item.tag for item in layout.items if isinstance(item, OpenTag)]
    closed = [item.tag for item in layout.items if isinstance(item, CloseTag)]
    assert opened.count("ul") == 2 and opened.count("ol") == 1
    assert sorted(opened) == sorted(closed)


def test_loose_list_items_and_list_attributes():
    layout = assert_consistent('<ol start="3"><li><p>loose</p></li><li><p>two</p></li></ol>')
    assert layout.text == "loose\n\ntwo"
    assert OpenTag("ol", (("start", "3"),)) in layout.items


def test_nested_blockquotes():
    html = (
        "<blockquote><p>outer</p><blockquote><p>inner <em>deep</em></p></blockquote></blockquote>"
    )
    layout = assert_consistent(html)
    assert layout.text == "outer\n\ninner deep"
    assert [item.tag for item in layout.items if isinstance(item, OpenTag)] == [
        "blockquote",
        "blockquote",
    ]


def test_inline_text_next_to_blocks_becomes_its_own_block():
    layout = assert_consistent("<blockquote>direct <em>text</em><p>para</p>tail</blockquote>")
    assert block_texts("<blockquote>direct <em>text</em><p>para</p>tail</blockquote>") == [
        "direct text",
        "para",
        "tail",
    ]
    assert layout.blocks[0].tag == "div"


def test_table_cells_are_blocks_and_empty_cells_keep_their_place():
    html = "<table><tr><th>h</th><td>one</td><td></td><td>two</td></tr></table>"
    layout = assert_consistent(html)
    assert layout.text == "h\n\none\n\ntwo"
    assert [b.tag for b in layout.blocks] == ["th", "td", "td"]
    # The empty cell keeps its place between the two others, so columns line up.
    tags = [getattr(item, "tag", None) for item in layout.items]
    assert tags == ["table", "tr", "th", "td", "td", "td", "td", "tr", "table"]
    assert isinstance(layout.items[4], OpenTag) and isinstance(layout.items[5], CloseTag)


def test_block_ids_are_stable_for_the_same_html():
    html = seed_html()
    first, second = build_layout(html), build_layout(html)
    assert [(b.id, b.start, b.end) for b in first.blocks] == [
        (b.id, b.start, b.end) for b in second.blocks
    ]
    assert first.text == second.text
    assert [b.id for b in first.blocks] == [f"block-{n}" for n in range(len(first.blocks))]


def test_seed_layout_is_consistent_and_readable():
    layout = assert_consistent(seed_html())
    text = layout.text
    assert text.startswith("Bashar al-Assad / Kremlin.ru\n\nSyrian President Bashar al-Assad")
    assert text.endswith('like any other terrorist," Interfax quoted Assad as saying.')
    assert len(layout.blocks) == 12
    assert unicodedata.is_normalized("NFC", text)
    assert "  " not in text


def test_blocks_between():
    layout = build_layout("<p>aaaa</p><p>bbbb</p><p>cccc</p>")
    assert [b.id for b in layout.blocks_between(0, 4)] == ["block-0"]
    assert [b.id for b in layout.blocks_between(3, 7)] == ["block-0", "block-1"]
    assert [b.id for b in layout.blocks_between(4, 6)] == []  # only the separator
    assert [b.id for b in layout.blocks_between(2, 13)] == ["block-0", "block-1", "block-2"]


# -- inline runs ----------------------------------------------------------------------------


def test_runs_carry_their_inline_path():
    layout = build_layout('<p>a <strong>b <em>c</em></strong> <a href="https://x.org">d</a></p>')
    runs = layout.blocks[0].runs
    assert [(run.text, [i.tag for i in run.path]) for run in runs] == [
        ("a ", []),
        ("b ", ["strong"]),
        ("c", ["strong", "em"]),
        (" ", []),
        ("d", ["a"]),
    ]
    assert dict(runs[-1].path[0].attrs) == {"href": "https://x.org"}


def test_two_adjacent_elements_of_one_tag_are_told_apart():
    runs = build_layout("<p><em>one</em><em>two</em></p>").blocks[0].runs
    assert runs[0].path != runs[1].path


@pytest.mark.parametrize("href", ["#", " # ", "", "#section"])
def test_links_without_a_real_target_lose_their_href(href):
    layout = build_layout(f'<p><a href="{href}" title="t">dead</a></p>')
    link = layout.blocks[0].runs[0].path[0]
    assert link.tag == "a"
    assert dict(link.attrs) == {"title": "t"}


def test_non_bmp_text_is_counted_in_code_points():
    layout = assert_consistent("<p>🎉 👏🏽 𝔐</p><p>x</p>")
    assert layout.text == "🎉 👏🏽 𝔐\n\nx"
    assert layout.blocks[0].end == 6
    assert layout.blocks[1].start == 8


def test_sentences_are_absolute_offsets():
    layout = build_layout("<p>Intro.</p><p>One. Two! Three?</p>")
    second = layout.blocks[1]
    assert [layout.text[s : s + 3] for s in second.sentences] == ["One", "Two", "Thr"]
    assert second.sentences[0] == second.start == 8
