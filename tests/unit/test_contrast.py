"""The palette in static/css/app.css holds the contrast it claims, in both themes: text 4.5:1
against what it sits on; the edges of highlights and the focus indicators 3:1 against the
colours next to them; the selection visible inside every highlight (WCAG 2.x ratios)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"
THEMES = ("light", "dark")
COLOURS = ("yellow", "green", "blue", "pink", "purple")
DEPTHS = (0.32, 0.55, 0.72, 0.88)  # mark.hl, .depth-2, .depth-3, .depth-4 (color-mix %)
HEAT = (0.16, 0.26, 0.38, 0.52, 0.68)  # others' notes in a class view: .heat-1 to .heat-5
HEX = r"#[0-9a-fA-F]{6}"


def palette() -> dict[str, dict[str, str]]:
    """{theme: {property: "#rrggbb"}} from the :root block's light-dark() pairs."""
    css = CSS.read_text(encoding="utf-8")
    root = re.search(r"^:root \{(.*?)^\}", css, re.S | re.M).group(1)
    found: dict[str, dict[str, str]] = {theme: {} for theme in THEMES}
    for name, light, dark in re.findall(
        rf"--([\w-]+):\s*light-dark\(\s*({HEX}),\s*({HEX})\s*\);", root
    ):
        found["light"][name], found["dark"][name] = light.lower(), dark.lower()
    return found


PALETTE = palette()


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def ratio(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def mix(colour: str, under: str, share: float) -> str:
    """`colour` at `share` over `under`, as color-mix(in srgb, colour N%, transparent) paints
    it on that background."""
    parts = [
        round(int(colour[i : i + 2], 16) * share + int(under[i : i + 2], 16) * (1 - share))
        for i in (1, 3, 5)
    ]
    return "#" + "".join(f"{p:02x}" for p in parts)


# (foreground, background) pairs of text, as the rules of app.css use them.
TEXT = [
    ("ink", "paper"),
    ("ink", "panel"),
    ("ink", "sunken"),
    ("ink", "info-bg"),
    ("ink", "warn-bg"),
    ("ink-soft", "paper"),
    ("ink-soft", "panel"),
    ("muted", "paper"),
    ("muted", "panel"),
    ("muted", "sunken"),
    ("muted", "info-bg"),
    ("accent", "paper"),
    ("accent", "panel"),
    ("accent", "info-bg"),
    ("danger", "paper"),
    ("danger", "panel"),
    ("on-accent", "accent"),
    ("on-danger", "danger"),
    ("paper", "ink"),
    ("error-ink", "error-bg"),
    ("error-ink", "panel"),
    ("warn-ink", "panel"),
    ("ok-ink", "panel"),
    ("toolbar-ink", "toolbar-bg"),
    ("toolbar-soft", "toolbar-bg"),
    ("toolbar-ink", "toolbar-field"),
    ("selection-ink", "selection-bg"),
]
# Focus indicators and the borders of fields, against what they sit next to.
NON_TEXT = [
    ("field", "paper"),
    ("field", "panel"),
    ("focus", "paper"),
    ("focus", "panel"),
    ("focus", "sunken"),
    ("focus", "info-bg"),
    ("toolbar-line", "toolbar-bg"),
    ("toolbar-focus", "toolbar-bg"),
    ("toolbar-focus", "toolbar-field"),
]


def test_both_themes_define_the_same_colours():
    assert PALETTE["light"].keys() == PALETTE["dark"].keys()
    needed = {name for pair in TEXT + NON_TEXT for name in pair}
    needed |= {f"hl-{c}" for c in COLOURS} | {f"hl-{c}-edge" for c in COLOURS}
    assert needed <= PALETTE["light"].keys()


def test_every_colour_in_the_stylesheet_is_a_custom_property():
    """Colours are written once, in :root (so both themes have every one); the rest of the
    stylesheet uses var(). Shadows (black with alpha) and the print page are the exception."""
    css = CSS.read_text(encoding="utf-8")
    rest = re.sub(r"^:root \{.*?^\}", "", css, count=1, flags=re.S | re.M)
    rest = rest[: rest.index("@media print")]
    literals = re.findall(r"#[0-9a-fA-F]{3,8}\b|\brgba?\((?!0 0 0 /)[^)]*\)|\bhsla?\(", rest)
    assert literals == []


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("fg", "bg"), TEXT, ids=lambda v: v)
def test_text_contrast(theme, fg, bg):
    colours = PALETTE[theme]
    assert ratio(colours[fg], colours[bg]) >= 4.5


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("fg", "bg"), NON_TEXT, ids=lambda v: v)
def test_focus_indicator_contrast(theme, fg, bg):
    colours = PALETTE[theme]
    assert ratio(colours[fg], colours[bg]) >= 3


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("colour", [*COLOURS, "others"])
def test_highlights(theme, colour):
    p = PALETTE[theme]
    hue, edge, paper = p[f"hl-{colour}"], p[f"hl-{colour}-edge"], p["paper"]
    fills = [mix(hue, paper, share) for share in (HEAT if colour == "others" else DEPTHS)]
    for depth, fill in enumerate(fills, 1):
        # Article text stays readable however deep the overlap.
        assert ratio(p["ink"], fill) >= 4.5, f"text on depth {depth}"
        # The edge under every mark (and the ring of the active one) stands out from the
        # fill above it and from the page around it.
        assert ratio(edge, fill) >= 3, f"edge on depth {depth}"
        # A selection inside the highlight shows as a selection, and its text reads.
        assert ratio(p["selection-bg"], fill) >= 3, f"selection in depth {depth}"
    assert ratio(edge, paper) >= 3
    assert ratio(p["selection-bg"], paper) >= 3
    assert p["selection-bg"] not in (hue, edge)
