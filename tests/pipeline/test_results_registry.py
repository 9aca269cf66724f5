"""The results registry: one declaration per results table, enforced where tables are written,
read and audited. (That a tiny run writes exactly the declared tables is checked on the run of
``test_end_to_end.py``.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.audit import audit
from pipelines.publish import write_table as publish_table
from pipelines.report.catalog import CATALOG
from pipelines.results_registry import (
    REGISTRY,
    ResultSpec,
    SchemaError,
    check_frame,
    spec_for_path,
    write_table,
)

FIXTURE = Path(__file__).parents[1] / "report" / "fixtures" / "results"


def _sizes() -> pd.DataFrame:
    """subgroups/sizes.csv: three classes of one population (denominator shared by all rows)."""
    n = np.array([40, 35, 25])
    return pd.DataFrame(
        {
            "population": "stock",
            "group": ["1", "2", "3"],
            "label": ["a", "b", "c"],
            "n_persons": n,
            "n": 100,
            "share": n / 100,
        }
    )


def test_every_entry_is_complete() -> None:
    for name, spec in REGISTRY.items():
        assert spec.name == name
        assert spec.description, name
        # <area>/<file>.csv; the recovery studies: recovery/<study>/<file>.csv
        depth = 2 if spec.path.startswith("recovery/") else 1
        assert spec.path.endswith(".csv") and spec.path.count("/") == depth, spec.path
        assert set(spec.reads) <= set(spec.schema), name
        assert spec_for_path(spec.path) is spec
        for col in spec.schema:
            if col == "n" or col.startswith("n_"):
                assert spec.schema[col] == "count", (name, col)
    assert CATALOG is REGISTRY  # the documents read the same declarations


def test_write_table_writes_a_conforming_table(tmp_path: Path) -> None:
    path = write_table("subgroup_sizes", _sizes(), tmp_path, threshold=5, known_ids={"P1"})
    assert path == tmp_path / "subgroups" / "sizes.csv"
    back = pd.read_csv(path)
    assert list(back.columns) == list(_sizes().columns)
    assert check_frame(REGISTRY["subgroup_sizes"], back) == []


def test_write_table_refuses_undeclared_columns_and_wrong_kinds(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="column 'secret' is not declared"):
        write_table("subgroup_sizes", _sizes().assign(secret=1), tmp_path, threshold=5)
    with pytest.raises(SchemaError, match=r"column 'n_persons' \(count\): not numeric"):
        write_table("subgroup_sizes", _sizes().assign(n_persons="many"), tmp_path, threshold=5)
    with pytest.raises(SchemaError, match=r"column 'n_persons' \(count\): count with a non-int"):
        write_table(
            "subgroup_sizes", _sizes().assign(n_persons=[40.5, 35, 24.5]), tmp_path, threshold=5
        )
    with pytest.raises(KeyError, match="not declared in pipelines.results_registry"):
        write_table("no_such_table", _sizes(), tmp_path, threshold=5)
    assert not (tmp_path / "subgroups" / "sizes.csv").exists()


def test_write_table_asserts_the_declared_disclosure_rule(tmp_path: Path) -> None:
    """A class of 4 published as it is: the declared rule would suppress it (and a second
    cell, else 4 = 100 - 90 - 6), so the write is refused and nothing is written."""
    df = _sizes().assign(n_persons=[90, 4, 6], share=[0.9, 0.04, 0.06])
    with pytest.raises(SchemaError, match="suppresses further cells"):
        write_table("subgroup_sizes", df, tmp_path, threshold=5)
    assert not (tmp_path / "subgroups" / "sizes.csv").exists()
    suppressed = REGISTRY["subgroup_sizes"].protect(df, threshold=5).frame
    assert suppressed is not None and suppressed["n_persons"].isna().sum() == 2
    write_table("subgroup_sizes", suppressed, tmp_path, threshold=5)  # closed under the rule


def test_publish_finds_the_table_by_its_area_and_file(tmp_path: Path) -> None:
    out = tmp_path / "subgroups"
    out.mkdir()
    assert publish_table(_sizes(), out / "sizes.csv", 5, None).is_file()
    staging = tmp_path / ".subgroups.tmp-123"  # a stage's staging directory (pipelines.run)
    staging.mkdir()
    assert publish_table(_sizes(), staging / "sizes.csv", 5, None).is_file()
    with pytest.raises(KeyError, match="subgroups/extra.csv: results table not declared"):
        publish_table(_sizes(), out / "extra.csv", 5, None)


def test_an_entry_in_the_old_catalog_format_still_works() -> None:
    spec = ResultSpec(
        "trends/stock.csv",
        ("year", "n", "n_persons", "share"),
        "trends",
        suppress={"counts": {"n_persons": ["share"]}, "denominator": "n"},
    )
    assert spec.columns == ("year", "n", "n_persons", "share")
    df = pd.DataFrame({"year": [2020, 2021], "n": [50, 50], "n_persons": [3, 47]})
    df["share"] = df["n_persons"] / df["n"]
    protected = spec.protect(df, threshold=5).frame
    assert protected is not None and protected["n_persons"].isna().all()  # 3, then 47 = 50 - 3
    assert check_frame(spec, df.assign(anything=1)) == []


def test_report_fixture_tables_are_declared_and_conform() -> None:
    """The documents' test fixture holds only declared tables, each matching its declaration."""
    files = sorted(FIXTURE.rglob("*.csv"))
    assert len(files) >= 20
    for path in files:
        rel = path.relative_to(FIXTURE).as_posix()
        spec = spec_for_path(rel)
        assert spec is not None, f"{rel} is not declared in the results registry"
        assert check_frame(spec, pd.read_csv(path)) == [], rel


def test_audit_reports_undeclared_tables_and_columns(tmp_path: Path) -> None:
    (tmp_path / "subgroups").mkdir()
    _sizes().to_csv(tmp_path / "subgroups" / "sizes.csv", index=False)
    assert audit([tmp_path], 5) == []
    _sizes().assign(extra=1).to_csv(tmp_path / "subgroups" / "sizes.csv", index=False)
    _sizes().to_csv(tmp_path / "subgroups" / "unknown.csv", index=False)
    found = sorted(str(v) for v in audit([tmp_path], 5))
    assert any("unknown.csv: results table not declared in the registry" in v for v in found)
    assert any("sizes.csv: registry (subgroup_sizes): column 'extra' is not declared" in v
               for v in found)  # fmt: skip
    assert audit([tmp_path], 5, registry=False) == []
