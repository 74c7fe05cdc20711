"""axe-core in a Playwright page: `assert_no_axe_violations(page)` after any state a test
has reached. The checker is fetched from the npm registry at set-up time (`make axe`, which
`make test` runs) into tests/vendor/, never committed.

Every rule axe-core has runs, the best-practice and experimental ones included, except the
few in DISABLED, each with its reason.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[1] / "vendor" / "axe.min.js"

# Rules left out, with the reason. Nothing else is.
DISABLED = {
    # WCAG AAA (7:1 text). The app claims AA: 4.5:1 for text, 3:1 for the edges of marks
    # and for focus indicators (tests/unit/test_contrast.py checks the palette).
    "color-contrast-enhanced": "AAA contrast (7:1) is not claimed; AA (4.5:1) is",
}

RUN = """
async ([context, disabled]) => {
  const rules = axe.getRules().map((rule) => rule.ruleId).filter((id) => !disabled.includes(id));
  const result = await axe.run(context || document, {
    runOnly: { type: "rule", values: rules },
    resultTypes: ["violations"],
  });
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      html: n.html,
      summary: n.failureSummary,
    })),
  }));
}
"""


@cache
def _source() -> str:
    if not AXE_JS.is_file():
        raise RuntimeError(f"{AXE_JS} is missing: run `make axe` (scripts/fetch-axe)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page, context: str | None = None) -> list[dict]:
    """axe-core's violations in `page` as it is now (`context`: a CSS selector to check
    only part of it). The script goes in through the DevTools protocol, so the page's
    Content-Security-Policy, which allows no injected script, does not stop it."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_source())
    return page.evaluate(RUN, [context, sorted(DISABLED)])


def describe(violations: list[dict], label: str = "") -> str:
    """The violations as a readable list: rule, impact, what to fix, and each element."""
    lines = [f"{len(violations)} axe-core violation(s){' in ' + label if label else ''}:"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            lines.append(f"    at {node['target']}")
            lines.append(f"       {node['html'][:200]}")
            for line in (node["summary"] or "").splitlines():
                lines.append(f"       {line}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more elements")
    return "\n".join(lines)


def assert_no_axe_violations(page, label: str = "", context: str | None = None) -> None:
    """Fail, listing every violation readably, unless axe-core finds none in `page`."""
    violations = axe_violations(page, context)
    assert not violations, describe(violations, label or page.url)
