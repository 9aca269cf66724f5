"""Session fixtures: one tiny synthetic register on disk and one small simulation in memory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    from pipelines.synthetic import generate

    out = tmp_path_factory.mktemp("synthetic_tiny")
    generate("tiny", seed=7, out_dir=out, weekly=True)
    return out


@pytest.fixture(scope="session")
def small_register():
    """A register about three times tiny (more events for frequency checks), in memory."""
    from pipelines.synthetic import simulate

    return simulate(size=0.01, seed=5)


def pytest_collection_modifyitems(items):
    """Run the synthetic-register tests on one xdist worker (they share session fixtures); tests
    on the shared ``default_register`` stay in its group (root conftest)."""
    here = Path(__file__).parent
    for item in items:
        if "default_register" in getattr(item, "fixturenames", ()):
            continue
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.xdist_group("synthetic"))
