"""README.md stays true: its configuration table names every variable the settings read."""

import re
from pathlib import Path

from django.conf import settings

from tests.dlsei.conftest import settings_env_names

README = Path(settings.BASE_DIR, "README.md")


def readme_configuration_names() -> set[str]:
    """The variables named in the first column of the README's configuration table."""
    text = README.read_text()
    section = text.split("\n## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("|"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_the_settings_reader_finds_what_settings_read():
    names = settings_env_names()
    # A sample the settings have always read, in each of the forms used there.
    assert {"VAR_DIR", "DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "EMAIL_URL"} <= names
    assert {"UPLOAD_MAX_BYTES", "HEC_BANK_ACCOUNT_NUMBER", "SECURE_HSTS_SECONDS", "LOG_LEVEL"} <= names


def test_every_variable_the_settings_read_is_in_the_readme_table():
    missing = settings_env_names() - readme_configuration_names()
    assert not missing, f"add these to README.md's configuration table: {sorted(missing)}"


def test_the_readme_opens_with_the_two_commands():
    quick_start = README.read_text().split("\n## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(?:\$ )?(make \w+)$", quick_start, flags=re.MULTILINE)
    assert commands == ["make run", "make test"]
