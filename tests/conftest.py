"""Shared pytest fixtures.

``default_register`` builds the `default` synthetic register (seed 1) and its derived frames ONCE
per test session (about 2 minutes) and hands every acceptance test the same paths. Tests that use
it are put into one xdist group (``--dist loadgroup`` in the Makefile), so with ``-n 2`` one worker
builds it while the other runs the fast tests. Treat the directories as read-only: write results to
your own ``tmp_path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_REGISTER_GROUP = "default_register"


@dataclass(frozen=True)
class DefaultRegister:
    """Paths of the shared `default` synthetic register.

    Attributes
    ----------
    raw : register tables as ``star synth`` writes them (Parquet), with ``raw / "ground_truth"``.
    derived : frames written by ``pipelines.derive.build.build_all`` with the default config.
    size, seed : how it was generated.
    """

    raw: Path
    derived: Path
    size: str = "default"
    seed: int = 1

    @property
    def truth(self) -> Path:
        return self.raw / "ground_truth"


@pytest.fixture(scope="session")
def default_register(tmp_path_factory) -> DefaultRegister:
    """The `default` synthetic register (seed 1) and its derived frames, built once per session."""
    from pipelines.config import load_config
    from pipelines.derive.build import build_all
    from pipelines.synthetic import generate

    root = tmp_path_factory.mktemp("default_register")
    reg = DefaultRegister(raw=root / "raw", derived=root / "derived")
    generate(size=reg.size, seed=reg.seed, out_dir=reg.raw)
    build_all(reg.raw, reg.derived, load_config())
    return reg


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Keep every test that needs the shared register on one xdist worker, and mark it slow.

    A wrapper: the marks are added before pytest-xdist's own collection hook turns
    ``xdist_group`` marks into node-id suffixes (a mark added after it is ignored, and then each
    worker builds its own register), and afterwards the suffixes are checked: pytest 9 with
    pytest-xdist 3.8 drops them silently (pytest pinned below 9 in pyproject.toml)."""
    for item in items:
        if DEFAULT_REGISTER_GROUP in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(DEFAULT_REGISTER_GROUP))
            item.add_marker(pytest.mark.slow)
    result = yield
    if getattr(config.option, "loadgroup", False):  # an xdist worker under --dist loadgroup
        lost = [
            item.nodeid
            for item in items
            if DEFAULT_REGISTER_GROUP in getattr(item, "fixturenames", ())
            and not item.nodeid.endswith("@" + DEFAULT_REGISTER_GROUP)
        ]
        if lost:
            raise pytest.UsageError(
                f"pytest-xdist did not group {len(lost)} tests of the shared register (e.g. "
                f"{lost[0]}): every worker would build its own; check the pytest/xdist versions"
            )
    return result
