"""A tiny synthetic register written in the DST layouts, built once per module that asks for it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def dst_tiny(tmp_path_factory) -> Path:
    """``star synth --size tiny --layout dst``: DST-style files, native tables in ``native/``."""
    from pipelines.dst.synth import synth_dst

    out = tmp_path_factory.mktemp("dst_tiny")
    synth_dst("tiny", 1, out)
    return out
