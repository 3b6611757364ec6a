"""Shared fixtures: real data from ../shared/data (or $CONVLENS_TEST_DATA), and the ``slow`` mark.

Under CI (CI=true) a missing data set is an error; elsewhere the test is skipped with a reason.
Tests marked ``slow`` (a full check that has a fast variant) run under CI=true or with ``--run-slow``
(``make test-all``); a plain local ``pytest`` skips them and says how to run them.
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


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true", help="Also run the tests marked slow (CI=true does).")


def pytest_collection_modifyitems(config, items):
    if in_ci() or config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: runs under CI=true or with --run-slow (make test-all)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def require_data(name: str) -> Path:
    """Path of a shared data set; fail under CI, skip elsewhere, when it is missing."""
    path = data_root() / name
    if path.exists():
        return path
    reason = f"shared data set {name!r} not found at {path} (set CONVLENS_TEST_DATA)"
    if in_ci():
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
