"""DREAM wide -> long / runs against hand-computed cases."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from pipelines.dst import dream


def _wide(tmp_path, rows, names):
    df = pd.DataFrame(rows, columns=["PNR", *names])
    path = tmp_path / "dream.parquet"
    df.to_parquet(path, index=False)
    return path


def test_week_columns_iso_and_pivot():
    weeks, bad = dream.week_columns(["PNR", "y_9130", "Y_0001", "y_2053", "y_2153", "other"])
    assert weeks.names == ("y_9130", "Y_0001", "y_2053")
    assert weeks.mondays.tolist() == [date(1991, 7, 22), date(2000, 1, 3), date(2020, 12, 28)]
    assert bad == ["y_2153"]  # 2021 has 52 ISO weeks
    assert dream.dream_column_name(date(2020, 12, 28)) == "y_2053"


def test_runs_break_on_code_change_gap_and_missing_week():
    names = ["y_2001", "y_2002", "y_2003", "y_2005", "y_2006"]  # week 4 missing from the file
    weeks, _ = dream.week_columns(names)
    mat = np.array([[0, 0, 1, 1, 1], [-1, 0, -1, 0, 0]], dtype=np.int16)
    rows, c0, c1, code = dream.runs_of_matrix(mat, weeks.adjacent)
    got = list(zip(rows.tolist(), c0.tolist(), c1.tolist(), code.tolist(), strict=True))
    assert got == [(0, 0, 1, 0), (0, 2, 2, 1), (0, 3, 4, 1), (1, 1, 1, 0), (1, 3, 4, 0)]


def test_long_and_records_from_a_file(tmp_path):
    names = ["y_2001", "y_2002", "y_2003"]
    path = _wide(
        tmp_path,
        [["A", "130", "130", None], ["B", None, "651", " 130"], ["C", None, None, None]],
        names,
    )
    weeks, _ = dream.week_columns(names)
    tally = dream.CodeTally()
    long = pd.concat(t.to_pandas() for t in dream.long_blocks(path, "PNR", weeks, tally))
    assert long["person_id"].tolist() == ["A", "A", "B", "B"]
    assert long["benefit_code"].tolist() == ["130", "130", "651", "130"]
    assert long["week_start"].dt.date.tolist()[:2] == [date(2019, 12, 30), date(2020, 1, 6)]
    assert tally.counts() == {"130": 3, "651": 1} and tally.persons == 3
    rec = pd.concat(
        t.to_pandas() for t in dream.record_blocks(path, "PNR", weeks, dream.CodeTally())
    )
    assert rec[["person_id", "benefit_code"]].values.tolist() == [
        ["A", "130"],
        ["B", "651"],
        ["B", "130"],
    ]
    assert rec["end_date"].dt.date.tolist()[0] == date(2020, 1, 12)  # Sunday of week 2


def test_numeric_codes_are_read_as_their_text(tmp_path):
    names = ["y_2001", "y_2002"]
    path = _wide(tmp_path, [["A", 130.0, np.nan], ["B", 621.0, 621.0]], names)
    weeks, _ = dream.week_columns(names)
    tally = dream.CodeTally()
    list(dream.long_blocks(path, "PNR", weeks, tally))
    assert tally.counts() == {"130": 1, "621": 2}


def test_long_row_groups_are_refused(tmp_path):
    names = ["y_2001"]
    path = _wide(tmp_path, [[f"P{i}", "130"] for i in range(50)], names)
    weeks, _ = dream.week_columns(names)
    with pytest.raises(ValueError, match="row groups"):
        list(dream.iter_blocks(path, "PNR", weeks, batch_rows=10))
