"""The benchmark's own logic that is not timing: progress lines, figures, the README block."""

from __future__ import annotations

import io

from tests.load.corpus import ProgressBar
from tests.load.loadgen import lua_string
from tests.load.report import number, replace_block, spread, verdict


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_a_line_per_ten_percent():
    stream = io.StringIO()
    bar = ProgressBar("building", 1234, stream)
    for done in range(1235):
        bar.update(done)
    bar.finish()
    lines = stream.getvalue().splitlines()
    assert [line.rsplit("]", 1)[1].strip() for line in lines] == [
        f"{p} %" for p in range(0, 101, 10)
    ]
    assert "\r" not in stream.getvalue()
    assert lines[-1] == "building [####################] 100 %"


def test_progress_on_a_terminal_rewrites_one_line():
    stream = Terminal()
    bar = ProgressBar("building", 7, stream)
    for done in range(8):
        bar.update(done)
    out = stream.getvalue()
    assert out.count("\n") == 1 and out.endswith("100 %\n")
    assert out.count("\r") == 8  # 0, 14, 28, ... 100: each percentage once
    bar.finish()
    assert stream.getvalue() == out  # nothing more once at 100 %


def test_progress_of_nothing_to_do_still_ends():
    stream = io.StringIO()
    ProgressBar("nothing", 0, stream).finish()
    assert stream.getvalue().endswith("100 %\n")


def test_spread_and_verdicts():
    assert spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    assert spread([None, 4.0]) == {"median": 4.0, "min": 4.0, "max": 4.0}
    assert spread([]) == {"median": None, "min": None, "max": None}
    assert verdict(0.2, 0.15) == "met"
    assert verdict(0.1, 0.15) == "not met"
    assert verdict(1.3, 1.2, at_least=False) == "not met"
    assert verdict(None, 1.2) is None
    assert verdict(0.5, None) is None


def test_numbers_read_well():
    assert number(0.00312) == "0.0031"
    assert number(0.153) == "0.15"
    assert number(3.0) == "3"
    assert number(2.5) == "2.50"
    assert number(12345.6) == "12,346"
    assert number(None) == "–"


def test_readme_block_is_replaced_between_its_markers_only():
    readme = "intro\n<!-- bench:start -->\nold table\n<!-- bench:end -->\noutro\n"
    once = replace_block(readme, "<!-- bench:start -->", "<!-- bench:end -->", "| new |\n")
    assert once == "intro\n<!-- bench:start -->\n| new |\n<!-- bench:end -->\noutro\n"
    again = replace_block(once, "<!-- bench:start -->", "<!-- bench:end -->", "| new |\n")
    assert again == once
    assert replace_block("no markers\n", "<!-- bench:start -->", "<!-- bench:end -->", "x") is None
    only_end = "<!-- bench:end -->\n<!-- bench:start -->\n"
    assert replace_block(only_end, "<!-- bench:start -->", "<!-- bench:end -->", "x") is None


def test_lua_strings_escape_what_lua_would_read():
    assert lua_string('a "quoted" \\ line\nnext\r') == '"a \\"quoted\\" \\\\ line\\nnext\\r"'
