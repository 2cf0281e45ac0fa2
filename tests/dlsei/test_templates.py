"""Templates never spell a status: they ask the object (`nomination.is_seated`, `record.failed`,
`fees.by_challan`), so each value is written once, in its choices class, and a rule read in a
template is the same one the services apply. Checked over every template of the project, and the
check really catches a comparison with a string literal."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

PACKAGES = ("dlsei", "core", "audit", "quotas", "registrations", "fees", "portal")

# The fields whose values are choices (or words computed from them) that templates must not spell.
FIELDS = ("status", "state", "kind", "seat_kind", "sector", "decision", "outcome", "bound", "pool", "deposit_status")
_VARIABLE = rf"[\w.]*\b(?:{'|'.join(FIELDS)})(?:\|[^\s=!]+)*"
_LITERAL = r"""(?:"[^"]*"|'[^']*')"""
_OPERATOR = r"(?:==|!=|\bnot\s+in\b|\bin\b)"
COMPARISON = re.compile(
    rf"(?<![\w.]){_VARIABLE}\s*{_OPERATOR}\s*{_LITERAL}|{_LITERAL}\s*{_OPERATOR}\s*(?<![\w.]){_VARIABLE}(?![\w.])"
)


def template_files() -> list[Path]:
    """Every template of the project: the TEMPLATES directories and each app's own templates/."""
    roots = [Path(directory) for directory in settings.TEMPLATES[0]["DIRS"]]
    roots += [Path(settings.BASE_DIR, package, "templates") for package in PACKAGES]
    return sorted(path for root in roots if root.is_dir() for path in root.rglob("*") if path.is_file())


def literal_comparisons(source: str) -> list[tuple[int, str]]:
    """(line, tag) of each {% if %} / {% elif %} that compares one of FIELDS with a string literal."""
    found = []
    for token in Lexer(source).tokenize():
        if token.token_type != TokenType.BLOCK or token.contents.split(" ", 1)[0] not in ("if", "elif"):
            continue
        if COMPARISON.search(token.contents):
            found.append((token.lineno, token.contents))
    return found


def test_the_project_has_templates_to_check():
    names = {path.relative_to(settings.BASE_DIR).as_posix() for path in template_files()}
    assert {"templates/base.html", "templates/fees/my_license.html", "templates/partials/nav.html"} <= names
    assert "templates/registrations/email/certificate_overdue_body.txt" in names


def test_no_template_compares_a_status_with_a_string():
    problems = [
        f"{path.relative_to(settings.BASE_DIR)}:{line}: {{% {tag} %}}"
        for path in template_files()
        for line, tag in literal_comparisons(path.read_text(encoding="utf-8"))
    ]
    assert not problems, "Ask the object instead (a property of the model or of the row):\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "tag",
    [
        '{% if nomination.status == "seated" %}',
        "{% if n.seat_kind == 'disability' %}",
        '{% elif record.state != "failed" %}',
        '{% if user.focal_person.university.sector == "private" %}',
        '{% if progress.deposit_status == "refund" or x %}',
        '{% if a and row.outcome|lower == "waiting" %}',
        '{% if "draft" == allocation.status %}',
        '{% if n.status in "seated waiting" %}',
        '{% if n.status not in "seated waiting" %}',
        '{% if status == "seated" %}',
        '{% if total.pool == "alumni" %}{% endif %}',
    ],
)
def test_the_check_catches_a_status_spelled_in_a_template(tag):
    source = "{% load i18n %}\n<p>\n" + tag + "x{% endif %}</p>"
    assert literal_comparisons(source) == [(3, tag.split("{% ", 1)[1].split(" %}", 1)[0])]


@pytest.mark.parametrize(
    "source",
    [
        '{% if code == "ur" %}{% endif %}',  # the language switch: a language code, not a status
        "{% if nomination.is_seated or nomination.is_waiting %}{% endif %}",
        '{% if nomination.status_reason %}{% endif %}<span class="status status-{{ n.status }}">',
        '<p>The status == "seated" in plain text is no template tag</p>',
        '{% translate "Status" as label %}{% blocktranslate %}state == "x"{% endblocktranslate %}',
        '{% if n.kindness == "x" %}{% endif %}',
    ],
)
def test_the_check_leaves_other_comparisons_alone(source):
    assert literal_comparisons(source) == []
