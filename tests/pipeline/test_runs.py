"""Run directories (never overwritten), the run list, and `star compare` of two runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.runs import (
    compare_runs,
    find_run,
    list_runs,
    publish_latest,
    resolve_run_dir,
    write_record,
)

ID = {"report_year": 2021, "config_hash": "3fa9c2d1" + "0" * 56, "code": "c1", "extract": "e1"}


def test_run_dir_is_named_by_year_and_hash_and_never_overwritten(tmp_path):
    first = resolve_run_dir(tmp_path, ID)
    assert first == tmp_path / "runs" / "2021-3fa9c2d1"
    write_record(first, ID, "complete")
    assert resolve_run_dir(tmp_path, ID) == first  # the same run: reused (the cache serves it)
    other = {**ID, "extract": "e2"}  # next year's extract, same config
    second = resolve_run_dir(tmp_path, other)
    assert second == tmp_path / "runs" / "2021-3fa9c2d1-2"
    write_record(second, other, "complete")
    assert resolve_run_dir(tmp_path, {**ID, "code": "c2"}).name == "2021-3fa9c2d1-3"
    with pytest.raises(ValueError, match="never overwritten"):
        resolve_run_dir(tmp_path, other, out=first)


def test_list_find_and_publish(tmp_path):
    a = resolve_run_dir(tmp_path, ID)
    (a / "reproduction").mkdir(parents=True)
    (a / "reproduction" / "star2022.csv").write_text("x\n")
    (a / "provenance").mkdir()
    (a / "provenance" / "provenance.json").write_text("{}")
    write_record(a, ID, "complete", data_end="2023-12-31")
    publish_latest(tmp_path, a)
    assert (tmp_path / "reproduction" / "star2022.csv").read_text() == "x\n"
    assert (tmp_path / "provenance.json").exists()
    runs = list_runs(tmp_path)
    assert runs.to_dict("records") == [
        {"run": "2021-3fa9c2d1", "year": 2021, "config_hash": "3fa9c2d1",
         "created": json.loads((a / "run.json").read_text())["created"], "extract": "e1",
         "data_end": "2023-12-31", "status": "complete", "latest": True}
    ]  # fmt: skip
    assert find_run(tmp_path, "2021") == a == find_run(tmp_path, "latest") == find_run(tmp_path, a)
    with pytest.raises(FileNotFoundError, match="not found"):
        find_run(tmp_path, "2019")


def _star(path: Path, rows: list[tuple]) -> Path:
    cols = ["id", "part", "statistic", "reproduced", "n", "unit", "tolerance", "lower", "upper"]
    (path / "reproduction").mkdir(parents=True)
    pd.DataFrame(rows, columns=cols).to_csv(path / "reproduction" / "star2022.csv", index=False)
    return path


def test_compare_by_hand(tmp_path):
    a = _star(tmp_path / "a", [
        ("R1", "all", "long-term share", 40.0, 100, "pct", "±2 points", 32, 36),
        ("R6", "all", "time activated", 30.0, 100, "pct", "±5 points", 25, 35),
        ("R17", "all", "hazard ratio", -20.0, None, "pct", "published within the estimate's 95 % CI", -30.0, -10.0),
        ("R22", "typical", "caseload", 80.0, None, "caseload", "±20 %", 60, 100),
    ])  # fmt: skip
    b = _star(tmp_path / "b", [
        ("R1", "all", "long-term share", 50.0, 100, "pct", "±2 points", 32, 36),
        ("R6", "all", "time activated", 33.0, 90, "pct", "±5 points", 25, 35),
        ("R17", "all", "hazard ratio", -10.0, None, "pct", "published within the estimate's 95 % CI", -20.0, 0.0),
        ("R22", "typical", "caseload", 90.0, None, "caseload", "±20 %", 60, 100),
    ])  # fmt: skip
    t = compare_runs(a, b).set_index(["id", "part"])
    r1 = t.loc[("R1", "all")]
    # 100 * sqrt(0.4*0.6/100 + 0.5*0.5/100) = 7.0; z = 10 / 7 = 1.4286 -> p = 0.1531
    assert r1["difference"] == pytest.approx(10.0)
    assert np.hypot(r1["se_a"], r1["se_b"]) == pytest.approx(7.0)
    assert r1["p_value"] == pytest.approx(0.15307, abs=1e-4)
    assert r1["conf_low"] == pytest.approx(10 - 1.959964 * 7.0, abs=1e-4)
    # a time share (R6) and a caseload have no binomial standard error; the model row's comes
    # from its interval: (upper - lower) / (2 * 1.96) = 5.102 in both runs
    assert np.isnan(t.loc[("R6", "all"), "p_value"]) and t.loc[("R6", "all"), "difference"] == 3
    assert np.isnan(t.loc[("R22", "typical"), "se_a"])
    assert t.loc[("R17", "all"), "se_a"] == pytest.approx(20 / (2 * 1.959964), abs=1e-4)
    assert list(compare_runs(a, b)["id"]) == ["R1", "R6", "R17", "R22"]  # the table's order
