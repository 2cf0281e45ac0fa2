"""axe-core in the browser: the accessibility check run on every page of the journeys.

axe-playwright-python ships axe.min.js inside the package, so nothing is downloaded. A page
passes when axe finds no violation of serious or critical impact.
"""

from axe_playwright_python.sync_playwright import Axe

BLOCKING_IMPACTS = frozenset({"serious", "critical"})
_axe = Axe()


def axe_violations(page) -> list[dict]:
    """The serious and critical violations axe finds on the page as it is now shown."""
    results = _axe.run(page, options={"resultTypes": ["violations"]})
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def violations_report(violations: list[dict]) -> str:
    """Each violation with the elements it was found on, short enough for a failure message."""
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {' '.join(node['target'])}: {node.get('failureSummary', '').splitlines()[-1:]}")
    return "\n".join(lines)


def assert_accessible(page, *, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe on {where} ({page.url}):\n{violations_report(violations)}"
