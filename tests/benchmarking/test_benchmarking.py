"""analysis.benchmarking against hand-computed cases, closed forms and a textbook meta-analysis."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.benchmarking import (
    EmpiricalBayes,
    IndirectStandardization,
    dersimonian_laird,
    funnel_limits,
    gamma_poisson_alpha,
    poisson_exact_ci,
    poisson_test_p,
)

# BCG vaccine trials (Colditz et al. 1994; metafor's dat.bcg): tpos, tneg, cpos, cneg
BCG = [
    (4, 119, 11, 128),
    (6, 300, 29, 274),
    (3, 228, 11, 209),
    (62, 13536, 248, 12619),
    (33, 5036, 47, 5761),
    (180, 1361, 372, 1079),
    (8, 2537, 10, 619),
    (505, 87886, 499, 87892),
    (29, 7470, 45, 7232),
    (17, 1699, 65, 1600),
    (186, 50448, 141, 27197),
    (5, 2493, 3, 2338),
    (27, 16886, 29, 17825),
]


def _pois_cdf(k: int, mu: float) -> float:
    """P(X <= k) for X ~ Poisson(mu), summed by hand."""
    return sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(k + 1)) if k >= 0 else 0.0


def test_dersimonian_laird_hand_cases():
    # equal variances 1: w = 1, Q = sum (y - ybar)^2, C = k - k/k... = k - 1
    assert dersimonian_laird([0, 1, 2], [1, 1, 1]).tau2 == pytest.approx(0.0)
    r = dersimonian_laird([0, 2, 4], [1, 1, 1])
    assert r.q == pytest.approx(8.0)
    assert r.tau2 == pytest.approx(3.0)  # (8 - 2) / (3 - 1)
    assert r.mu == pytest.approx(2.0)
    assert r.mu_se == pytest.approx(math.sqrt(4.0 / 3.0))  # 1 / sum 1/(1 + 3)
    # unequal variances, by hand: w = (1, 0.5), ybar = 1/3, Q = 1/9 + 0.5 * 4/9 = 1/3 < df=1 -> 0
    assert dersimonian_laird([0, 1], [1, 2]).tau2 == 0.0
    # w = (1, 0.25), y = (0, 5): ybar = 1, Q = 1 + 0.25*16 = 5, C = 1.25 - 1.0625/1.25 = 0.4
    r = dersimonian_laird([0, 5], [1, 4])
    assert r.q == pytest.approx(5.0)
    assert r.tau2 == pytest.approx((5 - 1) / 0.4)


def test_dersimonian_laird_bcg_textbook():
    # metafor: rma(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg, method="DL")
    # tau^2 = 0.3088, Q(df = 12) = 152.2330, estimate -0.7141 (se 0.1787)
    a, b, c, d = (np.array(x, float) for x in zip(*BCG, strict=True))
    y = np.log((a / (a + b)) / (c / (c + d)))
    v = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    r = dersimonian_laird(y, v)
    assert r.q == pytest.approx(152.2330, abs=1e-3)
    assert r.df == 12
    assert r.tau2 == pytest.approx(0.3088, abs=1e-4)
    assert r.mu == pytest.approx(-0.7141, abs=1e-4)
    assert r.mu_se == pytest.approx(0.1787, abs=1e-4)
    assert r.test().p_value < 1e-20


@pytest.mark.parametrize("o", [0, 1, 2, 5, 10, 37])
def test_poisson_exact_ci_defining_property(o):
    low, high = poisson_exact_ci([o], 0.95)
    # the upper limit is the mean with P(X <= o) = 2.5 %, the lower the mean with P(X >= o) = 2.5 %
    assert _pois_cdf(o, float(high[0])) == pytest.approx(0.025, abs=1e-9)
    if o == 0:
        assert low[0] == 0.0
    else:
        assert 1 - _pois_cdf(o - 1, float(low[0])) == pytest.approx(0.025, abs=1e-9)


def test_poisson_exact_ci_known_values():
    low, high = poisson_exact_ci([0, 1, 10])
    np.testing.assert_allclose(high, [3.688879, 5.571643, 18.390357], atol=1e-5)
    np.testing.assert_allclose(low, [0.0, 0.025318, 4.795389], atol=1e-5)
    with pytest.raises(ValueError):
        poisson_exact_ci([1.5])


def test_poisson_test_p_matches_two_sided_rule():
    # O = 10 vs E = 4: P(X >= 10 | 4) summed by hand, doubled
    p = poisson_test_p(np.array([10.0]), np.array([4.0]))[0]
    assert p == pytest.approx(2 * (1 - _pois_cdf(9, 4.0)))
    assert poisson_test_p(np.array([4.0]), np.array([4.0]))[0] == 1.0


def test_funnel_limits_interpolation_by_hand():
    e = 10.0
    lim = funnel_limits([e], levels=[0.95])
    # upper: r = 17 is the smallest r with F(r) >= 0.975 for Poisson(10)
    f17, f16 = _pois_cdf(17, e), _pois_cdf(16, e)
    assert f16 < 0.975 <= f17
    upper = (17 - (f17 - 0.975) / (f17 - f16)) / e
    assert lim["upper"].iloc[0] == pytest.approx(upper, rel=1e-9)
    f4, f3 = _pois_cdf(4, e), _pois_cdf(3, e)
    assert f3 < 0.025 <= f4
    assert lim["lower"].iloc[0] == pytest.approx((4 - (f4 - 0.025) / (f4 - f3)) / e, rel=1e-9)


def test_funnel_limits_approach_normal_and_nest():
    e = np.array([2.0, 20.0, 2000.0])
    lim = funnel_limits(e, levels=(0.95, 0.998))
    l95, l998 = lim[lim["level"] == 0.95], lim[lim["level"] == 0.998]
    assert (l998["upper"].to_numpy() > l95["upper"].to_numpy()).all()
    assert (l998["lower"].to_numpy() <= l95["lower"].to_numpy()).all()
    big = l95.iloc[2]
    z = stats.norm.ppf(0.975)
    assert big["upper"] == pytest.approx(1 + z / math.sqrt(2000), abs=2e-3)
    assert big["lower"] == pytest.approx(1 - z / math.sqrt(2000), abs=2e-3)
    assert (lim["lower"] >= 0).all()


def test_gamma_poisson_closed_form_posterior():
    o = np.array([0.0, 3.0, 12.0, 30.0, 5.0, 8.0])
    e = np.array([2.0, 5.0, 8.0, 20.0, 6.0, 9.0])
    res = EmpiricalBayes("gamma_poisson").fit(o, e)
    a = res.alpha
    assert np.isfinite(a)
    # posterior Gamma(a + O, a + E): mean and equal-tailed interval
    np.testing.assert_allclose(res.shrunken, (a + o) / (a + e))
    q = stats.gamma.ppf(0.975, a + o[2], scale=1 / (a + e[2]))
    assert res.table["conf_high"].iloc[2] == pytest.approx(q)
    # alpha maximises the negative-binomial likelihood: compare with a grid (independent)
    nb = [stats.nbinom.logpmf(o, al, al / (al + e)).sum() for al in np.linspace(a * 0.5, a * 2, 41)]
    assert stats.nbinom.logpmf(o, a, a / (a + e)).sum() >= max(nb) - 1e-6
    # shrinks towards 1: between the raw ratio and 1
    raw = o / e
    assert np.all((res.shrunken - 1) * (raw - 1) >= -1e-12)
    assert np.all(np.abs(res.shrunken - 1) <= np.abs(raw - 1) + 1e-12)


def test_gamma_poisson_no_heterogeneity_gives_infinite_alpha():
    e = np.full(50, 100.0)
    o = e.copy()  # exactly as expected: no overdispersion
    assert gamma_poisson_alpha(o, e) == float("inf")
    res = EmpiricalBayes().fit(o, e)
    np.testing.assert_allclose(res.shrunken, 1.0)


def test_normal_dl_shrinkage_formula():
    o = np.array([2.0, 10.0, 40.0, 7.0, 25.0])
    e = np.array([5.0, 8.0, 30.0, 10.0, 20.0])
    res = EmpiricalBayes("normal_dl").fit(o, e, groups=list("abcde"))
    y, v = np.log((o + 0.5) / e), 1 / (o + 0.5)
    dl = dersimonian_laird(y, v)
    b = dl.tau2 / (dl.tau2 + v)
    np.testing.assert_allclose(np.log(res.shrunken), dl.mu + b * (y - dl.mu))
    assert list(res.tidy()["term"]) == list("abcde")


def test_indirect_standardisation_saturated_model_by_hand():
    # one binary covariate x; the logit with intercept + x is saturated in x, so each fitted
    # probability is the event share of its x-level: p(x=0) = 2/10, p(x=1) = 6/10
    rows = []
    for g, x, n, k in [("A", 0, 8, 1), ("A", 1, 2, 2), ("B", 0, 2, 1), ("B", 1, 8, 4)]:
        rows += [{"g": g, "x": x, "y": int(i < k), "pid": f"{g}{x}{i}"} for i in range(n)]
    df = pd.DataFrame(rows)
    res = IndirectStandardization().fit(df, event="y", group="g", covariates=["x"], unit="pid")
    t = res.table.set_index("group")
    assert t.loc["A", "expected"] == pytest.approx(8 * 0.2 + 2 * 0.6)
    assert t.loc["B", "expected"] == pytest.approx(2 * 0.2 + 8 * 0.6)
    assert t.loc["A", "observed"] == 3 and t.loc["B", "observed"] == 5
    assert t.loc["A", "ratio"] == pytest.approx(3 / 2.8)
    lo, hi = poisson_exact_ci([5])
    assert t.loc["B", "conf_low"] == pytest.approx(lo[0] / 5.2)
    assert t.loc["B", "conf_high"] == pytest.approx(hi[0] / 5.2)
    assert t.loc["A", "n_units"] == 10
    tidy = res.tidy()
    assert list(tidy.columns[:7]) == [
        "term",
        "estimate",
        "std_error",
        "statistic",
        "p_value",
        "conf_low",
        "conf_high",
    ]
    assert not res.ratio.flags.writeable


def test_indirect_standardisation_rejects_bad_event():
    df = pd.DataFrame({"y": [0, 2, 1], "g": [1, 1, 2], "x": [0.0, 1.0, 0.5]})
    with pytest.raises(ValueError, match="0/1"):
        IndirectStandardization().fit(df, event="y", group="g", covariates=["x"])
