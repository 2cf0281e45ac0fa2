"""Fixtures of the portal tests: uploads kept under a temporary directory."""

import pytest

from tests import factories


@pytest.fixture(autouse=True)
def _private_files(settings, tmp_path):
    factories.private_files_in(settings, tmp_path / "private")
