"""Contract for issues 7/8: the documented covariates, computed from the register tables alone
(plus the true subgroup), give transition probabilities that match the observed transitions.

This checks the covariate definitions of ``pipelines.synthetic.design`` against the data the
generator writes (not against the generator's internal state): predicted and observed numbers of
KH exits agree overall and within levels of each exposure, within 4 standard errors.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pipelines.synthetic import design

M0 = pd.Period("1991-01", "M")


def _mi(ts: pd.Series) -> np.ndarray:
    return (ts.dt.year.to_numpy() - 1991) * 12 + ts.dt.month.to_numpy() - 1


@pytest.fixture(scope="module")
def kh_person_months(small_register):
    t = small_register.tables
    g = small_register.truth
    persons = t["persons"].merge(g["true_subgroups"], on="person_id")
    pix = {p: i for i, p in enumerate(persons["person_id"])}
    P, M = len(persons), 33 * 12
    last = pd.Timestamp("2023-12-31")

    def dense_counts(df, date_col):
        a = np.zeros((P, M + 1), np.int64)
        np.add.at(a, (df["person_id"].map(pix).to_numpy(), _mi(df[date_col])), 1)
        return a

    def dense_cover(df):
        d = np.zeros((P, M + 2), np.int64)
        p = df["person_id"].map(pix).to_numpy()
        np.add.at(d, (p, _mi(df["start_date"])), 1)
        np.add.at(d, (p, _mi(df["end_date"].fillna(last)) + 1), -1)
        return np.cumsum(d, axis=1)[:, :M] > 0

    conv = t["conversations"]
    conv_job = dense_counts(conv[conv["conversation_type"] == "job"], "conversation_date")
    spells = g["true_spells"]
    ca = t["caseworker_assignments"]
    # a change = an assignment that does not start on the first day of a KH spell
    first = ca.merge(
        spells[["person_id", "spell_start"]].rename(columns={"spell_start": "start_date"}),
        on=["person_id", "start_date"],
        how="left",
        indicator=True,
    )["_merge"].eq("both")
    changes = dense_counts(ca[~first.to_numpy()], "start_date")
    act = dense_cover(t["activation_offers"])
    ex = t["exemptions"]
    ill = dense_cover(ex[ex["reason"] == "illness"])
    lt = dense_counts(t["monthly_paid_hours"], "month")[:, :M] > 0
    b = t["benefit_spells"]
    kh = b[b["benefit_code"].isin(["130", "131", "132", "133"])]
    # municipality of the KH case open on the last day of each month
    end = kh["end_date"].fillna(last)
    s_m = _mi(kh["start_date"])
    e_m = _mi(end) + (end == end + pd.offsets.MonthEnd(0)).to_numpy()  # exclusive
    n = np.maximum(e_m - s_m, 0)
    rows = np.repeat(kh["person_id"].map(pix).to_numpy(), n)
    mon = np.repeat(s_m, n) + (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n))
    muni = np.zeros((P, M + 1), np.int64)
    muni[rows, mon] = np.repeat(kh["municipality_id"].to_numpy(), n)

    states = g["true_monthly_states"].copy()
    states["p"] = states["person_id"].map(pix)
    states["m"] = _mi(states["month"])
    nxt = (
        states[["p", "m", "state"]].rename(columns={"state": "next"}).assign(m=lambda d: d["m"] - 1)
    )
    pm = states[states["state"] == "kh"].merge(nxt, on=["p", "m"], how="inner")
    pm = pm[pm["m"] >= 11 * 12]  # 2002-2023: windows never reach before 1991
    # seniority from the (register-rebuildable) spell start; left-truncated spells excluded
    sp = spells[~spells["left_truncated"]].assign(
        p=lambda d: d["person_id"].map(pix), s=lambda d: _mi(d["spell_start"])
    )
    sp["e"] = np.where(sp["spell_end"].isna(), M, _mi(sp["spell_end"].fillna(last)))
    pm = pm.merge(sp[["p", "s", "e"]], on="p")
    pm = pm[(pm["m"] >= pm["s"]) & (pm["m"] <= pm["e"])]
    p, m = pm["p"].to_numpy(), pm["m"].to_numpy()
    wsum = lambda a, w: sum(a[p, m - k] for k in range(w))  # noqa: E731
    per = persons.iloc[p]
    age = 1991 + m // 12 - per["birth_year"].to_numpy()
    cols = design.static_columns({c: per[c].to_numpy() for c in per.columns})
    cols.update(
        design.dynamic_columns(
            state="kh",
            dur_months=m - pm["s"].to_numpy(),
            age=age,
            year=1991 + m // 12,
            poor_health=ill[p, m],
            cw_changes_12m=wsum(changes, 12),
            conv_3m=wsum(conv_job, 3),
            in_activation=act[p, m],
            paid_hours=lt[p, m],
            municipality_id=muni[p, m],
        )
    )
    x = design.design_matrix(cols)
    coef = small_register.result.params.transitions["kh"]
    prob = design.transition_probabilities(
        design.linear_predictors(x, coef, "kh", year=1991 + m // 12)
    )
    out = pd.DataFrame(prob[:, :-1], columns=list(design.DESTINATIONS["kh"]))
    out["next"] = pm["next"].to_numpy()
    for c in ("cw_changes_12m", "conv_3m", "poor_health", "paid_hours", "in_activation"):
        out[c] = cols[c]
    return out


def _z(df: pd.DataFrame, dest: str) -> float:
    obs = (df["next"] == dest).sum()
    exp = df[dest].sum()
    sd = np.sqrt((df[dest] * (1 - df[dest])).sum())
    return (obs - exp) / sd


def test_predicted_exits_match_observed_overall(kh_person_months):
    df = kh_person_months
    assert len(df) > 100_000
    for dest in ("job", "fp", "edu", "self_support", "other_benefit"):
        assert abs(_z(df, dest)) < 4, (dest, _z(df, dest))
    assert (df["next"] == "job").sum() > 1000


@pytest.mark.parametrize(
    "exposure,levels",
    [
        ("cw_changes_12m", [(0, 0), (1, 1), (2, 4)]),
        ("conv_3m", [(0, 0), (1, 1), (2, 3)]),
        ("poor_health", [(0, 0), (1, 1)]),
        ("paid_hours", [(0, 0), (1, 1)]),
        ("in_activation", [(0, 0), (1, 1)]),
    ],
)
def test_predicted_job_exits_match_within_exposure_levels(kh_person_months, exposure, levels):
    df = kh_person_months
    for lo, hi in levels:
        sub = df[df[exposure].between(lo, hi)]
        assert len(sub) > 500, (exposure, lo, hi)
        assert abs(_z(sub, "job")) < 4, (exposure, lo, hi, _z(sub, "job"))
