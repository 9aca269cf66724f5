"""Kaplan-Meier inference against R survival 3.5-3 on public data (lung, veteran, pbc, colon,
heart) and hand-made ties: quantiles with CIs (quantile.survfit), the survfit table (rmean,
se(rmean), median as print.survfit), survdiff (log-rank / G-rho, strata), robust IJ standard
errors with cluster= / id=, and na.omit. Fixtures: ``tests/r/km_inference_fixtures.R``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rcheck import close_to_r

from analysis.survival import AalenJohansen, KaplanMeier, gray_test, logrank_test

FIX = Path(__file__).parents[1] / "fixtures" / "r" / "km_inference"
TOL = 1e-10  # all agree to 1e-11 (R writes 15 significant digits)


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"{name}.csv")


def _data(name: str) -> pd.DataFrame:
    return _read(f"{name}_data")


def _hand(case: str) -> pd.DataFrame:
    d = _data("hand")
    return d[d.case == case]


# fit name in the fixtures -> (data, fit kwargs, estimator kwargs)
FITS = {
    "lung_all": (lambda: _data("lung"), dict(), dict()),
    "lung_sex": (lambda: _data("lung"), dict(group="sex"), dict()),
    "lung_sex_loglog": (lambda: _data("lung"), dict(group="sex"), dict(conf_type="log-log")),
    "lung_sex_plain": (lambda: _data("lung"), dict(group="sex"), dict(conf_type="plain")),
    "lung_sex_90": (lambda: _data("lung"), dict(group="sex"), dict(conf_level=0.9)),
    "lung_ecog": (lambda: _data("lung"), dict(group="ph_ecog"), dict()),
    "lung_wint": (lambda: _data("lung"), dict(group="sex", weights="wint"), dict()),
    "lung_wdec": (lambda: _data("lung"), dict(group="sex", weights="wdec"), dict()),
    "lung_cluster": (lambda: _data("lung"), dict(group="sex", cluster="inst"), dict()),
    "lung_cluster_loglog": (lambda: _data("lung"), dict(cluster="inst"),
                            dict(conf_type="log-log")),
    "lung_cluster_wdec": (lambda: _data("lung"), dict(group="sex", cluster="inst",
                                                      weights="wdec"), dict()),
    "vet_trt": (lambda: _data("veteran"), dict(group="trt"), dict()),
    "vet_cell": (lambda: _data("veteran"), dict(group="celltype"), dict()),
    "vet_cell_loglog": (lambda: _data("veteran"), dict(group="celltype"),
                        dict(conf_type="log-log")),
    "vet_cell_plain": (lambda: _data("veteran"), dict(group="celltype"),
                       dict(conf_type="plain")),
    "pbc_trt": (lambda: _data("pbc"), dict(group="trt"), dict()),
    "pbc_stage": (lambda: _data("pbc"), dict(group="stage"), dict()),
    "colon_rx": (lambda: _data("colon"), dict(group="rx"), dict()),
    "colon_rx_cluster": (lambda: _data("colon"), dict(group="rx", cluster="id"), dict()),
    "colon_rx_cluster_plain": (lambda: _data("colon"), dict(group="rx", cluster="id"),
                               dict(conf_type="plain")),
    "heart_entry": (lambda: _data("heart"), dict(entry="start"), dict()),
    "heart_entry_surgery": (lambda: _data("heart"), dict(entry="start", group="surgery"), dict()),
    "heart_id_robust": (lambda: _data("heart"), dict(entry="start", group="surgery", id="id"),
                        dict(variance="robust")),
    "heart_id_loglog": (lambda: _data("heart"), dict(entry="start", id="id"),
                        dict(variance="robust", conf_type="log-log")),
    "hand_a": (lambda: _hand("a"), dict(), dict()),
    "hand_a_w": (lambda: _hand("a"), dict(weights="w"), dict()),
    "hand_a_entry": (lambda: _hand("a"), dict(entry="entry"), dict()),
    "hand_b": (lambda: _hand("b"), dict(), dict()),
    "hand_b_loglog": (lambda: _hand("b"), dict(), dict(conf_type="log-log")),
    "hand_b_plain": (lambda: _hand("b"), dict(), dict(conf_type="plain")),
    "hand_c_grp": (lambda: _hand("c"), dict(group="grp"), dict()),
    "hand_c_grp_w": (lambda: _hand("c"), dict(group="grp", weights="w"), dict()),
    "hand_c_entry": (lambda: _hand("c"), dict(group="grp", weights="w", entry="entry"), dict()),
}  # fmt: skip
EVENT = {"lung": ("time", "event"), "veteran": ("time", "status"), "pbc": ("time", "death"),
         "colon": ("time", "status"), "heart": ("stop", "event"), "hand": ("time", "status")}  # fmt: skip


def _fit(name: str):
    loader, fit_kw, est_kw = FITS[name]
    duration, event = EVENT[name.split("_")[0].replace("vet", "veteran")]
    return KaplanMeier(**est_kw).fit(loader(), duration, event, **fit_kw)


def _close(actual, expected, tol=TOL, what=""):
    close_to_r(actual, expected, tol, what)


def _by_group(frame: pd.DataFrame, res) -> pd.DataFrame:
    frame = frame.copy()
    if res.group is None:
        frame.insert(0, "group", "all")
    else:
        frame = frame.rename(columns={res.group: "group"})
    frame["group"] = [str(int(g)) if isinstance(g, float) else str(g) for g in frame["group"]]
    return frame


def test_fixtures_cover_every_fit():
    assert set(_read("quantiles").fit) == set(FITS)


@pytest.mark.parametrize("name", sorted(FITS))
def test_curves_and_robust_se_match_survfit(name):
    """S(t), its SE and CI at every event time (robust IJ with cluster= / id= included)."""
    res = _fit(name)
    ref = _read("curves")
    ref = ref[(ref.fit == name) & (ref.n_event > 0)].copy()
    ref["group"] = ref["group"].astype(str)
    tidy = _by_group(res.tidy(), res)
    m = ref.merge(tidy, on=["group", "time"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all(), name
    r_se = np.where(m.logse, m.std_err * m.surv, m.std_err)
    _close(m.estimate, m.surv, what="estimate")
    _close(m.std_error, r_se, what="std_error")
    _close(m.conf_low, m.lower, what="conf_low")
    _close(m.conf_high, m.upper, what="conf_high")


@pytest.mark.parametrize("name", sorted(FITS))
def test_quantiles_match_quantile_survfit(name):
    res = _fit(name)
    ref = _read("quantiles")
    ref = ref[ref.fit == name].copy()
    ref["group"] = ref["group"].astype(str)
    q = _by_group(res.quantile(sorted(set(ref.prob))), res)
    m = ref.merge(q, on=["group", "prob"], how="outer", indicator=True)
    assert (m["_merge"] == "both").all()
    _close(m.estimate, m["quantile"], what="quantile")
    _close(m.conf_low, m.lower, what="lower")
    _close(m.conf_high, m.upper, what="upper")


@pytest.mark.parametrize("name", sorted(FITS))
@pytest.mark.parametrize("kind", ["common", "individual", "tau"])
def test_table_matches_summary_survfit(name, kind):
    """rmean, se(rmean), median and its CI (print.survfit rule), records, events."""
    res = _fit(name)
    ref = _read("table")
    ref = ref[(ref.fit == name) & (ref.rmean_type == kind)].copy()
    ref["group"] = ref["group"].astype(str)
    tau = ref.tau.iloc[0] if kind == "tau" else kind
    t = _by_group(res.table(tau), res)
    m = ref.merge(t, on=["group"], how="outer", indicator=True, suffixes=("_r", ""))
    assert (m["_merge"] == "both").all()
    _close(m.tau, m.tau_r, what="tau")
    _close(m.rmean, m.rmean_r, what="rmean")
    _close(m.se_rmean, m.se_rmean_r, what="se_rmean")
    _close(m["median"], m.median_r, what="median")
    _close(m.conf_low, m.lcl, what="LCL")
    _close(m.conf_high, m.ucl, what="UCL")
    _close(m.events, m.events_r, what="events")
    np.testing.assert_array_equal(m.records, m.records_r)


def test_median_on_a_flat_step_is_the_midpoint():
    """Hand case: S = 3/4, 1/2, 1/4 after 50, 52, 53; censored at 60."""
    res = KaplanMeier().fit(_hand("a"), "time", "status")
    q = res.quantile([0.25, 0.5, 0.75])
    np.testing.assert_allclose(q.estimate, [51.0, 52.5, (53 + 60) / 2])
    assert res.median()["median"].iloc[0] == 52.5
    assert res.table()["median"].iloc[0] == 52.5
    assert "median = 52.5" in res.summary()


@pytest.mark.parametrize("name", sorted(FITS))
def test_n_missing_equals_r_na_action(name):
    res = _fit(name)
    ref = _read("na_action").set_index("fit").n_missing
    assert res.n_missing == ref[name]


def test_dropping_missing_equals_fitting_prefiltered_data():
    lung = _data("lung")
    res = KaplanMeier().fit(lung, "time", "event", group="ph_ecog", cluster="inst")
    kept = lung.dropna(subset=["ph_ecog", "inst"])
    ref = KaplanMeier().fit(kept, "time", "event", group="ph_ecog", cluster="inst")
    assert res.n_missing == len(lung) - len(kept) == 2
    pd.testing.assert_frame_equal(res.tidy(), ref.tidy())
    pd.testing.assert_frame_equal(res.quantile(), ref.quantile())
    assert "2 observations deleted due to missingness" in res.summary()
    with pytest.raises(ValueError, match="missing"):
        KaplanMeier(missing="raise").fit(lung, "time", "event", group="ph_ecog")
    pbc = _data("pbc")
    for test in (lambda d: logrank_test(d, "time", "death", "trt"),
                 lambda d: gray_test(d, "time", "status", "trt")):  # fmt: skip
        a, b = test(pbc), test(pbc.dropna(subset=["trt"]))
        assert a.n_missing == 106 and b.n_missing == 0
        assert "106 observations deleted" in a.summary()
    aj = AalenJohansen().fit(pbc, "time", "status", group="trt")
    aj_ref = AalenJohansen().fit(pbc.dropna(subset=["trt"]), "time", "status", group="trt")
    assert aj.n_missing == 106
    pd.testing.assert_frame_equal(aj.tidy(), aj_ref.tidy())
    pd.testing.assert_frame_equal(aj.gray_test().tidy(), aj_ref.gray_test().tidy())


SURVDIFF = {
    "vet_trt": ("veteran", "time", "status", dict(group="trt")),
    "vet_cell": ("veteran", "time", "status", dict(group="celltype")),
    "vet_cell_rho1": ("veteran", "time", "status", dict(group="celltype", rho=1)),
    "vet_cell_rho05": ("veteran", "time", "status", dict(group="celltype", rho=0.5)),
    "vet_trt_strata": ("veteran", "time", "status", dict(group="trt", strata="celltype")),
    "vet_trt_strata_rho1": ("veteran", "time", "status",
                            dict(group="trt", strata="celltype", rho=1)),
    "lung_sex": ("lung", "time", "event", dict(group="sex")),
    "lung_ecog": ("lung", "time", "event", dict(group="ph_ecog")),
    "lung_sex_strata_ecog": ("lung", "time", "event", dict(group="sex", strata="ph_ecog")),
    "pbc_trt": ("pbc", "time", "death", dict(group="trt")),
    "pbc_stage_strata_sex": ("pbc", "time", "death", dict(group="stage", strata="sex")),
    "colon_rx": ("colon2", "time", "status", dict(group="rx")),
    "colon_rx_rho2": ("colon2", "time", "status", dict(group="rx", rho=2)),
    "hand_c": ("hand_c", "time", "status", dict(group="grp")),
    "hand_c_rho1": ("hand_c", "time", "status", dict(group="grp", rho=1)),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SURVDIFF))
def test_logrank_matches_survdiff(name):
    data, duration, event, kw = SURVDIFF[name]
    if data == "colon2":
        df = _data("colon").query("etype == 2")
    elif data == "hand_c":
        df = _hand("c")
    else:
        df = _data(data)
    res = logrank_test(df, duration, event, **kw)
    ref = _read("survdiff")
    ref = ref[ref.test == name]
    assert res.df == ref.df.iloc[0]
    assert res.n_missing == ref.n_missing.iloc[0]
    assert abs(res.statistic - ref.chisq.iloc[0]) < 1e-9 * max(1.0, ref.chisq.iloc[0])
    _close([res.p_value], [ref.p_value.iloc[0]], 1e-12)
    d = res.details
    np.testing.assert_array_equal(d["n"], ref.n)
    _close(d.observed, ref.observed, what="observed")
    _close(d.expected, ref.expected, what="expected")
    _close(d["(O-E)^2/E"], ref.oe2_e, what="(O-E)^2/E")
    _close(d["(O-E)^2/V"], ref.oe2_v, what="(O-E)^2/V")
    assert res.tidy().loc[0, "statistic"] == res.statistic


def test_logrank_hand_computed_two_groups():
    """Two groups, one tie across groups at t=2 (by hand: O - E and hypergeometric V)."""
    df = pd.DataFrame({"t": [1, 2, 2, 3], "e": [1, 1, 1, 0], "g": ["a", "a", "b", "b"]})
    res = logrank_test(df, "t", "e", "g")
    # t=1: n=4 (2 a), d=1 -> E_a = 1/2, V = 1*2*2*3/(16*3) = 1/4
    # t=2: n=3 (1 a), d=2 -> E_a = 2/3, V = 2*1*2*1/(9*2) = 2/9
    o_minus_e = 2 - (0.5 + 2 / 3)
    assert res.statistic == pytest.approx(o_minus_e**2 / (0.25 + 2 / 9), abs=1e-14)
    assert res.df == 1
    with pytest.raises(ValueError, match="entry"):
        logrank_test(df, "t", "e", "g", entry="t")
