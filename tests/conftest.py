"""Shared fixtures: every test runs isolated from the developer's environment and config."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No TIERWISE_* variable or tierwise.toml from the developer's machine leaks into a test."""
    import os

    for key in list(os.environ):
        if key.startswith("TIERWISE_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"
