"""Fixtures of the project-wide tests: the world of every role (tests.factories.build_world), and
the environment variables the settings read."""

import re
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import World, build_world

SETTINGS_SOURCE = Path(settings.BASE_DIR, "dlsei", "settings.py")

# `env.str("NAME"`, `env.int("NAME"`, `environ.Env().str("NAME"`, `env("NAME"`, `os.environ.get("NAME"`,
# `os.environ["NAME"]`, `os.getenv("NAME"`.
_ENV_READ = re.compile(
    r"""(?:\b[Ee]nv(?:\(\))?(?:\.\w+)?\(\s*|os\.environ(?:\.get\(\s*|\[\s*)|os\.getenv\(\s*)["']([A-Z][A-Z0-9_]*)["']"""
)


def settings_env_names() -> set[str]:
    """Every environment variable that dlsei/settings.py reads."""
    return set(_ENV_READ.findall(SETTINGS_SOURCE.read_text()))


@pytest.fixture
def world(db) -> World:
    return build_world()
