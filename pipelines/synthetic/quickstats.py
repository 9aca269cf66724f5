"""Quick versions of the BRIEF section-3 statistics computed from the generator's own truth.

These use the true monthly states and the event logs (month resolution), not the register tables,
so they are fast and available before the pipeline's own statistics exist. They are what the
calibration (:mod:`pipelines.calibration`) targets with ``--stats quick`` and what
``expected_statistics.json`` reports as ``truth_month_level`` values. Definitions follow STAR 2022
as closely as month resolution allows; each function says what it computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pipelines.synthetic import design
from pipelines.synthetic.dynamics import DEAD, FP, JOB, KH, OUT_ABSENCE, RF, SS, SimResult


def month_index(res: SimResult, year: int, month: int) -> int:
    return (year - res.params.time.start_year) * 12 + (month - 1)


@dataclass
class TruthView:
    """Month-level view of a simulation: a state matrix and derived helpers."""

    res: SimResult

    @cached_property
    def states(self) -> np.ndarray:
        """(persons, months) int8: state index, -1 outside the population (before entry, after
        the retirement age)."""
        ep = self.res.logs["episodes"]
        N, T = self.res.population.n, self.res.n_months
        S = np.full((N, T), -1, np.int8)
        flat = S.reshape(-1)
        lens = ep["end"].astype(np.int64) - ep["start"] + 1
        cum = np.cumsum(lens)
        lo = 0
        while lo < len(lens):  # bounded memory: about 20 million person-months at a time
            base = cum[lo - 1] if lo else 0
            hi = max(int(np.searchsorted(cum, base + 20_000_000, side="right")), lo + 1)
            ln = lens[lo:hi]
            start = ep["person"][lo:hi].astype(np.int64) * T + ep["start"][lo:hi]
            off = np.arange(ln.sum()) - np.repeat(np.cumsum(ln) - ln, ln)
            flat[np.repeat(start, ln) + off] = np.repeat(ep["state"][lo:hi], ln)
            lo = hi
        return S

    def seniority(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        """Persons on kh in month t and their seniority in whole months."""
        ep = self.res.logs["episodes"]
        sel = (ep["state"] == KH) & (ep["start"] <= t) & (ep["end"] >= t)
        return ep["person"][sel], (t - ep["start"][sel]).astype(np.int64)

    def spell_start(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        ep = self.res.logs["episodes"]
        sel = (ep["state"] == KH) & (ep["start"] <= t) & (ep["end"] >= t)
        return ep["person"][sel], ep["start"][sel].astype(np.int64)

    def activity_ready(self, persons: np.ndarray, t: int) -> np.ndarray:
        """Match group (True = activity-ready) in month t for persons on kh in month t."""
        ss = self.res.logs["spell_starts"]
        mg = self.res.logs["match_group"]
        person = np.concatenate([ss["person"], mg["person"]])
        tt = np.concatenate([ss["t"], mg["t"]]).astype(np.int64)
        ar = np.concatenate([ss["ar"], mg["ar"]])
        keep = tt <= t
        person, tt, ar = person[keep], tt[keep], ar[keep]
        order = np.lexsort((tt, person))
        person, ar = person[order], ar[order]
        last = np.searchsorted(person, persons, side="right") - 1
        ok = (last >= 0) & (person[np.maximum(last, 0)] == persons)
        return np.where(ok, ar[np.maximum(last, 0)], False)

    def stock_by_year(self) -> dict[int, float]:
        S = self.states
        y0 = self.res.params.time.start_year
        kh = (S == KH).sum(axis=0)
        return {
            y0 + i: float(kh[12 * i : 12 * i + 12].mean()) / self.res.scale
            for i in range(self.res.n_months // 12)
        }


def _offer_months(
    res: SimResult, persons: np.ndarray, t0: int, t1: int, employment: bool
) -> np.ndarray:
    """(len(persons), t1-t0+1) bool: an offer (employment offers only if asked) covers the month."""
    off = res.logs["offers"]
    types = res.params.activation.types
    emp = np.array([ty != "mentor" for ty in types])
    pos = {int(p): i for i, p in enumerate(persons)}
    out = np.zeros((len(persons), t1 - t0 + 1), bool)
    sel = np.isin(off["person"], persons) & (off["end"] >= t0) & (off["start"] <= t1)
    if employment:
        sel &= emp[off["type"]]
    for p, s, e in zip(off["person"][sel], off["start"][sel], off["end"][sel], strict=True):
        out[pos[int(p)], max(s, t0) - t0 : min(e, t1) - t0 + 1] = True
    return out


def _exempt_months(res: SimResult, persons: np.ndarray, t0: int, t1: int) -> np.ndarray:
    ex = res.logs["exemptions"]
    pos = {int(p): i for i, p in enumerate(persons)}
    out = np.zeros((len(persons), t1 - t0 + 1), bool)
    sel = np.isin(ex["person"], persons) & (ex["end"] >= t0) & (ex["start"] <= t1)
    for p, s, e in zip(ex["person"][sel], ex["start"][sel], ex["end"][sel], strict=True):
        out[pos[int(p)], max(s, t0) - t0 : min(e, t1) - t0 + 1] = True
    return out


def _longest_run(mask: np.ndarray) -> np.ndarray:
    best = np.zeros(mask.shape[0], np.int64)
    cur = np.zeros(mask.shape[0], np.int64)
    for j in range(mask.shape[1]):
        cur = np.where(mask[:, j], cur + 1, 0)
        best = np.maximum(best, cur)
    return best


def quick_statistics(res: SimResult, view: TruthView | None = None) -> dict[str, float]:
    """Month-level versions of R1-R21 from the truth (see module docstring)."""
    v = view or TruthView(res)
    pop = res.population
    S = v.states
    out: dict[str, float] = {}

    # --- characteristics, Nov 2021 stock ---------------------------------------------------
    tr = month_index(res, 2021, 11)
    p, sen = v.seniority(tr)
    out["n_stock_2021_11"] = len(p) / res.scale
    out["R1"] = float(np.mean(sen >= 60))
    st = tr - sen
    prior = np.array([(S[i, max(0, s - 36) : s] == KH).any() for i, s in zip(p, st, strict=True)])
    out["R2"] = float(prior.mean())
    lt1, ge5 = sen < 12, sen >= 60
    out["R3_lt1"] = float(pop.psych[p][lt1].mean())
    out["R3_ge5"] = float(pop.psych[p][ge5].mean())
    ch = pop.has_children[p]
    out["R4_lt1"] = float(pop.children_placed[p][lt1 & ch].mean())
    out["R4_long"] = float(pop.children_placed[p][ge5 & ch].mean())
    for name, x in (
        ("female", pop.female[p]),
        ("non_western", pop.origin[p] == 2),
        ("menapt", pop.menapt[p]),
        ("basic_education", pop.education[p] == 0),
    ):
        out[f"R5_{name}_lt1"] = float(x[lt1].mean())
        out[f"R5_{name}_ge5"] = float(x[ge5].mean())
    # R6: share of kh months in the last 24 months with an offer (all recipients)
    t0 = tr - 23
    onkh = S[p, t0 : tr + 1] == KH
    act = _offer_months(res, p, t0, tr, employment=False)
    out["R6"] = float((act & onkh).sum() / onkh.sum())
    # R8: løntimer in the reference month
    lt = res.logs["loentimer"]
    has_lt = np.isin(p, lt["person"][lt["t"] == tr])
    out["R8"] = float(has_lt.mean())
    munis = res.population.municipality  # entry municipality is a proxy only here
    del munis

    # --- case review: activity-ready, >= 5 years on 2020-03-01, window 2018-03..2020-02 ------------
    tc = month_index(res, 2020, 3)
    p, sen = v.seniority(tc)
    ar = v.activity_ready(p, tc)
    sel = ar & (sen >= 60)
    q = p[sel]
    out["n_case_review"] = int(len(q))
    w0, w1 = tc - 24, tc - 1
    if len(q):
        conv = res.logs["conversations"]
        inwin = (conv["t"] >= w0) & (conv["t"] <= w1)
        njob = np.bincount(conv["person"][inwin], weights=conv["n_job"][inwin], minlength=pop.n)
        out["R7"] = float(np.mean(njob[q] >= 8))
        onkh = S[q, w0 : w1 + 1] == KH
        emp = _offer_months(res, q, w0, w1, employment=True)
        exm = _exempt_months(res, q, w0, w1)
        out["R9"] = float(np.mean(_longest_run(onkh & ~emp & ~exm) >= 13))
        out["R10"] = float(np.mean(exm.any(axis=1)))
        off = res.logs["offers"]
        ab = (off["outcome"] == OUT_ABSENCE) & (off["end"] >= w0) & (off["end"] <= w1)
        out["R11"] = float(np.mean(np.isin(q, off["person"][ab])))
        out["R12"] = float(np.mean(emp.any(axis=1)))
        sg = pop.subgroup[q]
        out["R16_true_nonwestern_women"] = float(np.mean(sg == 2))
        out["R16_true_danish_men"] = float(np.mean(sg == 3))
        # register proxies of analysis.star2022 (women of non-western origin; Danish-origin men
        # aged 50+ in 2020 with substance-abuse treatment)
        out["R16_proxy_nonwestern_women"] = float(np.mean(pop.female[q] & (pop.origin[q] == 2)))
        out["R16_proxy_danish_men"] = float(
            np.mean(
                ~pop.female[q]
                & (pop.origin[q] == 0)
                & (2020 - pop.birth_year[q] >= 50)
                & pop.substance[q]
            )
        )
        # calibration target: true share and register proxy both near the published figure
        out["R16_nonwestern_women"] = (
            out["R16_true_nonwestern_women"] + out["R16_proxy_nonwestern_women"]
        ) / 2
        out["R16_danish_men"] = (out["R16_true_danish_men"] + out["R16_proxy_danish_men"]) / 2

    # --- hovedveje: Q1-2018 cohort, four half-years from 2018-04, predominant state -----------------
    tq = month_index(res, 2018, 1)
    coh = np.flatnonzero((S[:, tq : tq + 3] == KH).any(axis=1))
    out["n_cohort_2018Q1"] = len(coh) / res.scale
    hs = []
    for h in range(4):
        a = tq + 3 + 6 * h
        blk = S[coh, a : a + 6]
        cnt = np.stack([(blk == k).sum(axis=1) for k in range(9)], axis=1)
        hs.append(np.where(cnt.sum(axis=1) > 0, cnt.argmax(axis=1), SS))
    hs = np.stack(hs, axis=1)
    out["R13"] = float(np.mean((hs == KH).all(axis=1)))
    out["R14"] = float(np.mean((hs == JOB).any(axis=1)))
    out["R14_end"] = float(np.mean(hs[:, 3] == JOB))
    out["R15_fp"] = float(np.mean((hs == FP).any(axis=1)))
    out["R15_rf"] = float(np.mean((hs == RF).any(axis=1)))
    out["R15_self_support"] = float(np.mean((hs == SS).any(axis=1)))
    out["R15_dead_or_emigrated"] = float(np.mean((hs == DEAD).any(axis=1)))

    # --- stock path -------------------------------------------------------------------------------
    stock = v.stock_by_year()
    out["R19_2015"] = stock[2015]
    out["R19_2021"] = stock[2021]

    # --- municipalities: the municipality of the person's current case -----------------------------
    out.update(_municipality_stats(res, v))
    return out


def current_municipality(res: SimResult, persons: np.ndarray, t: int) -> np.ndarray:
    """Municipality index of the kh case of ``persons`` in month t (spell start + moves)."""
    ss = res.logs["spell_starts"]
    mv = res.logs["moves"]
    person = np.concatenate([ss["person"], mv["person"]])
    tt = np.concatenate([ss["t"], mv["t"]]).astype(np.int64)
    mu = np.concatenate([ss["muni"], mv["muni"]])
    keep = tt <= t
    person, tt, mu = person[keep], tt[keep], mu[keep]
    order = np.lexsort((tt, person))
    person, mu = person[order], mu[order]
    last = np.searchsorted(person, persons, side="right") - 1
    return mu[np.maximum(last, 0)]


def _municipality_stats(res: SimResult, v: TruthView) -> dict[str, float]:
    out: dict[str, float] = {}
    code = res.traits.code
    cph = int(np.flatnonzero(code == 101)[0])
    slg = int(np.flatnonzero(code == 330)[0])
    t = month_index(res, 2019, 7)
    p, sen = v.seniority(t)
    ar = v.activity_ready(p, t)
    mu = current_municipality(res, p, t)
    sel = ar & (mu == cph)
    out["n_copenhagen_ar_2019_07"] = int(sel.sum())
    if sel.any():
        out["R20_gt3"] = float(np.mean(sen[sel] > 36))
        out["R20_gt10"] = float(np.mean(sen[sel] > 120))
    t = month_index(res, 2023, 5)
    p, sen = v.seniority(t)
    ar = v.activity_ready(p, t)
    mu = current_municipality(res, p, t)
    s_sel = ar & (mu == slg)
    o_sel = ar & (mu != slg) & (mu != cph)
    out["n_slagelse_ar_2023_05"] = int(s_sel.sum())
    if s_sel.any():
        out["R21_slagelse_gt10"] = float(np.mean(sen[s_sel] > 120))
        long = s_sel & (sen > 120)
        if long.any():
            out["R21_mean_days"] = float(np.mean(sen[long]) * 30.4375 + 7)
    out["R21_other_gt10"] = float(np.mean(sen[o_sel] > 120))
    long = ar & (sen >= 120)
    if long.any():  # national version of the Slagelse mean duration (less noisy)
        out["R21_mean_days_national"] = float(np.mean(sen[long]) * 30.4375 + 7)
    return out


def oracle_ari(res: SimResult, persons: np.ndarray | None = None) -> float:
    """Adjusted Rand index of the Bayes classifier that knows the true class-conditional
    distributions of the baseline characteristics (sex, origin x menapt, education, psychiatric
    diagnosis, substance abuse, children x placed, age band at first entry), among ``persons``
    (default: everyone in the Nov-2021 stock)."""
    pop = res.population
    sp = res.params.subgroups
    if persons is None:
        persons, _ = TruthView(res).seniority(month_index(res, 2021, 11))
    K = len(design.SUBGROUPS)
    logp = np.zeros((len(persons), K))
    prior = np.bincount(pop.subgroup[persons], minlength=K) / len(persons)
    logp += np.log(np.maximum(prior, 1e-12))
    i = persons
    fem = np.asarray(sp.female)
    logp += np.log(np.where(pop.female[i][:, None], fem, 1 - fem))
    orig = np.array([sp.origin[g] for g in design.SUBGROUPS]).T  # (3, K)
    logp += np.log(orig[pop.origin[i]])
    men = np.asarray(sp.menapt_given_non_western)
    nw = pop.origin[i] == 2
    logp += np.where(nw[:, None], np.log(np.where(pop.menapt[i][:, None], men, 1 - men)), 0.0)
    edu = np.array([sp.education[g] for g in design.SUBGROUPS]).T
    logp += np.log(edu[pop.education[i]])
    for arr, pr in (
        (pop.psych, sp.psychiatric_diagnosis),
        (pop.substance, sp.substance_abuse_treatment),
        (pop.has_children, sp.has_children),
    ):
        pr = np.asarray(pr)
        logp += np.log(np.where(arr[i][:, None], pr, 1 - pr))
    cp = np.asarray(sp.children_placed_given_children)
    logp += np.where(
        pop.has_children[i][:, None],
        np.log(np.where(pop.children_placed[i][:, None], cp, 1 - cp)),
        0.0,
    )
    age = (res.params.time.start_year + pop.entry_t[i] // 12 - pop.birth_year[i]).astype(float)
    mu, sd = np.asarray(sp.entry_age_mean), np.asarray(sp.entry_age_sd)
    logp += -0.5 * ((age[:, None] - mu) / sd) ** 2 - np.log(sd)
    pred = logp.argmax(axis=1)
    return adjusted_rand_index(pop.subgroup[persons], pred)


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings (Hubert & Arabie 1985).

    Own implementation (the contingency-table formula) because importing scikit-learn costs
    seconds in the generator; tests check it against ``sklearn.metrics.adjusted_rand_score``.
    """
    _, ai = np.unique(a, return_inverse=True)
    _, bi = np.unique(b, return_inverse=True)
    table = np.zeros((ai.max() + 1, bi.max() + 1), np.int64)
    np.add.at(table, (ai, bi), 1)

    def pairs(x: np.ndarray) -> float:
        x = x.astype(np.float64)
        return float((x * (x - 1) / 2).sum())

    index = pairs(table)
    rows, cols = pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    total = len(ai) * (len(ai) - 1) / 2
    expected = rows * cols / total if total else 0.0
    maximum = (rows + cols) / 2
    if maximum == expected:
        return 1.0
    return (index - expected) / (maximum - expected)
