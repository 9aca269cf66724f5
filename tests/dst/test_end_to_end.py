"""`star init-extract` + `star run --extract` on the DST-layout synthetic register gives the same
results tables as `star run` on the native layout (slow: two tiny pipeline runs, ~2 min each).

Only provenance differs: it records the configuration (paths, the mapping copy) and the input
files with their hashes, which are the converted tables rather than the native files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.slow


def _star(*args: str, cwd: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000", "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_dst_layout_run_equals_native_run(dst_tiny, tmp_path):
    native = tmp_path / "native.yaml"
    native.write_text(yaml.safe_dump({"paths": {
        "raw_dir": str(dst_tiny / "native"), "work_dir": str(tmp_path / "nw"), "results_dir": str(tmp_path / "nr")}}))  # fmt: skip
    _star("run", "--config", str(native), cwd=tmp_path)
    conf = tmp_path / "conf"
    _star("init-extract", str(dst_tiny), "--out", str(conf), cwd=tmp_path)
    cfg = yaml.safe_load((conf / "star.yaml").read_text())
    cfg["paths"].update(work_dir=str(tmp_path / "dw"), results_dir=str(tmp_path / "dr"))
    (conf / "star.yaml").write_text(yaml.safe_dump(cfg))
    _star("validate", str(dst_tiny), "--config", str(conf / "star.yaml"), "--extract", str(conf / "extract.yaml"), cwd=tmp_path)  # fmt: skip
    _star(
        "run",
        "--config",
        str(conf / "star.yaml"),
        "--extract",
        str(conf / "extract.yaml"),
        cwd=tmp_path,
    )

    def published(root: Path) -> set[Path]:
        # the latest run's tables at the top of the results dir; runs/<year>-<config hash>/
        # differ in name (the two configurations differ in their paths)
        files = (p.relative_to(root) for p in root.rglob("*") if p.is_file())
        return {p for p in files if p.parts[0] != "runs"}

    a, b = published(tmp_path / "nr"), published(tmp_path / "dr")
    assert a == b
    csvs = sorted(p for p in a if p.suffix == ".csv")
    assert len(csvs) > 20
    differ = [
        str(p)
        for p in csvs
        if (tmp_path / "nr" / p).read_bytes() != (tmp_path / "dr" / p).read_bytes()
    ]
    assert differ == []
