"""Missing values in nullable text columns stay missing on every supported pandas.

pandas 2 turned a missing value into the text ``"<NA>"`` in ``astype("str")``, so the
synthetic register's empty ``match_group`` failed its "must be one of" rule (issue 20).
"""

from __future__ import annotations

import pandas as pd

from data_schema.mapping import load_state_mapping
from pipelines.config import load_config
from pipelines.ingest import validate_table

CFG = load_config()
MAPPING = load_state_mapping()


def test_missing_match_group_in_parquet_is_accepted_as_missing(tmp_path):
    spells = pd.DataFrame(
        {
            "person_id": ["P1", "P2", "P3", "P4"],
            "case_id": ["C1", "C2", "C3", "C4"],
            "benefit_code": ["130", "130", "621", "131"],
            "start_date": pd.to_datetime(["2015-01-05", "2016-04-10", "2019-01-01", "2018-02-01"]),
            "end_date": pd.to_datetime(["2016-03-31", None, None, "2019-12-31"]),
            "municipality_id": [101, 101, 330, 101],
            "match_group": ["activity_ready", None, "  ", "job_ready"],
        }
    )
    path = tmp_path / "benefit_spells.parquet"
    spells.to_parquet(path)
    res = validate_table("benefit_spells", path, CFG, MAPPING)
    assert res.fatal is None
    assert (res.n_read, res.n_accepted, res.n_quarantined) == (4, 4, 0)
    got = res.accepted.set_index("case_id")["match_group"]
    assert got.isna().tolist() == [False, True, True, False]
    assert got[["C1", "C4"]].tolist() == ["activity_ready", "job_ready"]
