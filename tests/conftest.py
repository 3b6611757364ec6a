"""Shared fixtures: real data from ../shared/data (or $CONVLENS_TEST_DATA).

Under CI (CI=true) a missing data set is an error; elsewhere the test is skipped with a reason.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ._browser import artifacts_dir, browser, offline_page  # noqa: F401  (fixtures for browser tests)

REPO = Path(__file__).resolve().parents[1]


def data_root() -> Path:
    env = os.environ.get("CONVLENS_TEST_DATA")
    return Path(env) if env else REPO.parent / "shared" / "data"


def require_data(name: str) -> Path:
    """Path of a shared data set; fail under CI, skip elsewhere, when it is missing."""
    path = data_root() / name
    if path.exists():
        return path
    reason = f"shared data set {name!r} not found at {path} (set CONVLENS_TEST_DATA)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def shared_data():
    """Call with a data-set name, e.g. ``shared_data("dogs-vs-cats/raw")``."""
    return require_data


@pytest.fixture(autouse=True)
def _no_network_weights(monkeypatch, tmp_path_factory):
    """Keep torch hub and any cache inside a temporary folder: nothing downloads in tests."""
    hub = tmp_path_factory.mktemp("torch-home")
    monkeypatch.setenv("TORCH_HOME", str(hub))
    monkeypatch.setenv("CONVLENS_CACHE", str(tmp_path_factory.mktemp("convlens-cache")))
