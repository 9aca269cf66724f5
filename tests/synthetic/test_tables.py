"""The synthetic register is a valid extract: schemas, window, ids, codes, hours separation."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from data_schema.mapping import load_state_mapping
from data_schema.tables import TABLES, table_schema
from pipelines.privacy import looks_like_cpr

WINDOW = (date(1991, 1, 1), date(2023, 12, 31))


def _read(d, name):
    df = pd.read_parquet(d / f"{name}.parquet")
    if name == "persons":
        df["children_placed"] = df["children_placed"].astype("boolean")
        df["municipality_id"] = df["municipality_id"].astype("Int64")
    return df


@pytest.mark.parametrize("name", list(TABLES))
def test_every_table_is_valid_under_its_schema_and_window(tiny_dir, name):
    df = _read(tiny_dir, name)
    assert len(df) > 0
    assert tuple(df.columns) == TABLES[name].columns
    table_schema(name, WINDOW).validate(df, lazy=True)


def test_in_memory_simulate_gives_the_same_tables_as_generate(tiny_dir):
    from pipelines.synthetic import simulate

    reg = simulate(size="tiny", seed=7)
    for name, df in reg.tables.items():
        disk = _read(tiny_dir, name)
        for col in df.columns:
            if str(df[col].dtype).startswith("datetime64"):
                df[col] = df[col].astype(disk[col].dtype)
        pd.testing.assert_frame_equal(df, disk, check_dtype=False)
    truth = pd.read_parquet(tiny_dir / "ground_truth" / "true_spells.parquet")
    assert len(reg.truth["true_spells"]) == len(truth)


def test_person_ids_are_pseudonyms_not_cpr(tiny_dir):
    p = _read(tiny_dir, "persons")["person_id"]
    assert p.str.fullmatch(r"P\d{7}").all()
    assert not looks_like_cpr(p).any()
    # every person id used anywhere exists in persons
    for name in ("benefit_spells", "conversations", "monthly_paid_hours", "exemptions"):
        assert set(_read(tiny_dir, name)["person_id"]) <= set(p)


def test_benefit_codes_are_all_in_the_state_mapping(tiny_dir):
    mapping = load_state_mapping()
    codes = set(_read(tiny_dir, "benefit_spells")["benefit_code"])
    assert codes <= set(mapping.codes)
    assert {"130", "131", "132", "133", "621", "764", "771", "651"} <= codes


def test_all_98_municipalities_with_copenhagen_and_slagelse(tiny_dir):
    m = _read(tiny_dir, "municipalities")
    assert len(m) == 98 and m["municipality_id"].is_unique
    names = dict(zip(m["municipality_id"], m["name"], strict=True))
    assert names[101] == "København" and names[330] == "Slagelse" and names[851] == "Aalborg"
    assert m.groupby("region").size().to_dict() == {
        "hovedstaden": 29,
        "midtjylland": 19,
        "nordjylland": 11,
        "sjaelland": 17,
        "syddanmark": 22,
    }


def test_loentimer_on_kh_are_few_hours_and_job_months_have_at_least_80(tiny_dir):
    h = _read(tiny_dir, "monthly_paid_hours")
    tm = pd.read_parquet(tiny_dir / "ground_truth" / "true_monthly_states.parquet")
    m = h.merge(tm, on=["person_id", "month"], how="left")
    kh = m[m["state"] == "kh"]["paid_hours"]
    job = m[m["state"] == "job"]["paid_hours"]
    assert len(kh) > 50 and len(job) > 500
    assert kh.between(5, 60).all()
    assert (job >= 80).all()
    # no job month without a paid-hours row
    assert (tm["state"] == "job").sum() == len(job)


def test_every_kh_case_has_a_match_group_and_other_benefits_none(tiny_dir):
    b = _read(tiny_dir, "benefit_spells")
    kh = b["benefit_code"].isin(["130", "131", "132", "133"])
    assert b.loc[kh, "match_group"].notna().all()
    assert b.loc[~kh, "match_group"].isna().all()
    # match group changes over time within persons
    per_person = b[kh].groupby("person_id")["match_group"].nunique()
    assert (per_person > 1).mean() > 0.05


def test_illness_exemptions_cover_exactly_the_poor_health_kh_months(small_register):
    """Count of KH persons in poor health per month (dynamics log) equals the number of KH persons
    covered by an illness exemption that month (register table)."""
    res = small_register.result
    ex = small_register.tables["exemptions"]
    ill = ex[ex["reason"] == "illness"]
    end = ill["end_date"].fillna(pd.Timestamp("2023-12-31"))
    months = pd.period_range("2010-01", "2012-12", freq="M")
    covered = [((ill["start_date"] <= m.end_time) & (end >= m.start_time)).sum() for m in months]
    h = res.logs["health"]  # one row per simulated month: n on kh, n poor on kh
    t0 = (2010 - res.params.time.start_year) * 12
    poor = h["n_poor"][t0 : t0 + len(months)]
    assert np.array_equal(np.asarray(covered), poor)
    assert poor.sum() > 100
