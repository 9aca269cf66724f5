"""Monthly microsimulation of the kontanthjælp system, vectorised over persons (loop over months).

Order of events within calendar month ``t`` (the state in month ``t`` is known at its start):

1. entrants start a KH spell; health moves one step (good <-> poor) for everyone in the population;
2. case workers: departures (all clients move to the replacement on the same day), hiring and
   down-sizing towards the municipality's caseload, assignment of new KH spells, moves between
   municipalities (new case, new case worker), individual transfers;
3. administrative events on KH: closed-and-reopened cases, match-group re-visitation, exemptions,
   conversations, activation offers, løntimer;
4. the multinomial-logit transition to the state of month ``t + 1``, from covariates of month ``t``.

Random numbers: a block of uniforms per month, one row per entered person (index order = entry
order, fixed by the seed), one column per purpose. Under an intervention the same person gets the
same uniforms (common random numbers), so differences between scenarios are due to the
intervention, not to noise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pipelines.synthetic import design
from pipelines.synthetic.params import SynthParams
from pipelines.synthetic.population import (
    MunicipalityTraits,
    Population,
    draw_population,
    municipality_traits,
    n_months,
    rng_for,
)

KH, JOB, FP, RF, FJ, EDU, SS, OB, DEAD = range(9)
LEFT = -2  # left the population (retirement age)
ONGOING = -1
STREAM_MONTH = 1
STREAM_AUX = 2
STREAM_CW = 3

# columns of the monthly uniform block (common random numbers)
(
    U_HEALTH,
    U_TRANS,
    U_MOVE,
    U_MOVE_DEST,
    U_TRANSFER,
    U_TRANSFER_DEST,
    U_CLOSURE,
    U_MG,
    U_MG2,
    U_EXEMPT,
    U_CONV_JOB,
    U_CONV_OTHER,
    U_OFFER,
    U_OFFER_TYPE,
    U_OFFER_DUR,
    U_LT,
    U_NEWCW,
    U_REGIME,
    U_REGIME2,
) = range(19)
N_UNIFORMS = 19

# reasons of case-worker changes
CW_DEPARTURE, CW_DOWNSIZING, CW_MOVE, CW_TRANSFER, CW_TEAM = 1, 2, 3, 4, 5
# offer outcomes
OUT_COMPLETED, OUT_ABSENCE, OUT_OTHER, OUT_ONGOING = 0, 1, 2, 3
# exemption reasons (design order of data_schema.codes.EXEMPTION_REASON)
EX_ILLNESS, EX_MATERNITY, EX_OTHER = 0, 1, 2

AGE_MAX = 110

DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass(frozen=True)
class Intervention:
    """A policy scenario applied from month ``start`` (YYYY-MM) on.

    kind
        ``cw_change_factor``: multiply the probabilities of case-worker departures, down-sizing moves
        and individual transfers by ``value`` (0.5 = halve case-worker changes);
        ``min_conversations``: at least one job conversation in every three months (``value`` is the
        yearly minimum, only 4 is supported), for everyone on kh;
        ``caseload``: every municipality's nominal caseload set to ``value`` cases per case worker.
    """

    kind: Literal["cw_change_factor", "min_conversations", "caseload"]
    value: float
    start: str = "2018-01"

    def start_t(self, start_year: int) -> int:
        y, m = (int(x) for x in self.start.split("-"))
        return (y - start_year) * 12 + (m - 1)


@dataclass
class SimResult:
    """Everything the simulation produced (arrays of event logs), before writing register tables."""

    params: SynthParams
    scale: float
    seed: int
    intervention: Intervention | None
    population: Population
    traits: MunicipalityTraits
    n_months: int
    logs: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    caseworker_muni: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    caseworker_team: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # activity-ready

    def month_year(self, t: np.ndarray) -> np.ndarray:
        return self.params.time.start_year + np.asarray(t) // 12


class _Log:
    """Append-only columnar log (lists of arrays, concatenated once at the end)."""

    def __init__(self, **dtypes: type):
        self.dtypes = dtypes
        self.parts: dict[str, list[np.ndarray]] = {k: [] for k in dtypes}

    def add(self, **cols: np.ndarray | int) -> None:
        n = max((len(v) for v in cols.values() if isinstance(v, np.ndarray)), default=0)
        if n == 0:
            return
        for k, dt in self.dtypes.items():
            v = cols[k]
            self.parts[k].append(
                np.asarray(v, dtype=dt) if isinstance(v, np.ndarray) else np.full(n, v, dtype=dt)
            )

    def result(self) -> dict[str, np.ndarray]:
        return {
            k: (np.concatenate(v) if v else np.zeros(0, dtype=self.dtypes[k]))
            for k, v in self.parts.items()
        }


class _Pool:
    """Case workers: team unit (municipality * 2 + activity-ready team), active flag; grows by
    doubling."""

    def __init__(self, cap: int = 1024):
        self.unit = np.zeros(cap, np.int16)
        self.active = np.zeros(cap, bool)
        self.n = 0

    def add(self, units: np.ndarray) -> np.ndarray:
        k = len(units)
        while self.n + k > len(self.unit):
            self.unit = np.concatenate([self.unit, np.zeros(len(self.unit), np.int16)])
            self.active = np.concatenate([self.active, np.zeros(len(self.active), bool)])
        ids = np.arange(self.n, self.n + k)
        self.unit[ids] = units
        self.active[ids] = True
        self.n += k
        return ids


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _poisson_inv(u: np.ndarray, lam: np.ndarray, kmax: int = 12) -> np.ndarray:
    """Poisson draws by inverse CDF from uniforms (one uniform per draw, for common random numbers)."""
    p = np.exp(-lam)
    cdf = p.copy()
    k = np.zeros(len(u), np.int16)
    for i in range(1, kmax + 1):
        more = u > cdf
        if not more.any():
            break
        k += more
        p = p * lam / i
        cdf = cdf + p
    return k


def _coef(d: dict[str, float], name: str) -> float:
    return float(d.get(name, 0.0))


def _period_value(coefs: dict[str, float], year: int) -> float:
    cols = design.period_columns(np.array([year]))
    return float(sum(coefs.get(name, 0.0) * cols[name][0] for name in cols))


def simulate(
    params: SynthParams,
    size: str | float = "tiny",
    seed: int = 1,
    intervention: Intervention | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> SimResult:
    """Run the microsimulation and return its event logs.

    Parameters
    ----------
    params
        Generator parameters (``load_params()``).
    size
        ``tiny``, ``default``, ``national`` or a scale (persons relative to national size).
    seed
        Run seed; the same seed gives identical results.
    intervention
        Optional policy scenario (common random numbers with the baseline of the same seed).
    progress
        Optional callback ``progress(label, done, total)``, called once per simulated year.
    """
    scale = params.scale(size)
    pop = draw_population(params, scale, seed)
    traits = municipality_traits(params)
    T = n_months(params)
    y0 = params.time.start_year
    N = pop.n
    M = len(traits.code)
    n_entered = np.searchsorted(pop.entry_t, np.arange(T), side="right")

    # ---- static parts of the linear predictors ------------------------------------------------
    static_cols = design.static_columns(pop.characteristics())
    x_static = np.column_stack([static_cols[c] for c in design.STATIC_COVARIATES]).astype(
        np.float32
    )
    dyn_names = ("log_dur", "dur_lt6", "age10", "age10_sq", "age_ge55")
    kh_names = (
        "poor_health",
        "cw_changes_12m",
        "conv_3m",
        "in_activation",
        "paid_hours",
        "muni_copenhagen",
        "muni_slagelse",
    )
    # Precomputed multiplicative factors of exp(eta) (speed: no exp() of linear predictors in the
    # monthly loop): exp(eta) = exp(static part) * exp(duration/age part) * exp(period part)
    # [* exp(kh exposure part)]. The probabilities are exactly those of design.linear_predictors.
    idx_c = design.COVARIATE_INDEX
    d_grid = np.arange(T + 1, dtype=np.float64)
    a_grid = np.arange(AGE_MAX + 1, dtype=np.float64)
    a10_grid = (a_grid - 40.0) / 10.0
    kh_codes = _kh_code_grid()
    origins = {}
    for origin in design.ORIGINS:
        B = design.coefficient_matrix(params.transitions[origin], origin)
        bs = B[[idx_c[c] for c in design.STATIC_COVARIATES]]
        bd = {c: B[idx_c[c]] for c in dyn_names}
        dur_part = np.log1p(d_grid)[:, None] * bd["log_dur"] + (d_grid < 6)[:, None] * bd["dur_lt6"]
        age_part = (
            a10_grid[:, None] * bd["age10"]
            + (a10_grid**2)[:, None] * bd["age10_sq"]
            + (a_grid >= 55)[:, None] * bd["age_ge55"]
        )
        dyn = np.exp(dur_part[:, None, :] + age_part[None, :, :]).astype(np.float32)
        periods = {}
        for y in range(y0, y0 + T // 12):
            cols = design.period_columns(np.array([y]))
            periods[y] = np.exp(sum(B[idx_c[name]] * col[0] for name, col in cols.items())).astype(
                np.float32
            )
        entry = {
            "static": np.exp(x_static.astype(np.float64) @ bs).astype(np.float32),
            "dyn": dyn.reshape((T + 1) * (AGE_MAX + 1), B.shape[1]),
            "period": periods,
            "dest": np.array([design.STATE_INDEX[d] for d in design.DESTINATIONS[origin]]),
            "rf_col": (
                design.DESTINATIONS[origin].index("rf")
                if "rf" in design.DESTINATIONS[origin]
                else -1
            ),
        }
        if origin == "kh":
            bk = B[[idx_c[c] for c in kh_names]]
            entry["kh"] = np.exp(kh_codes @ bk).astype(np.float32)
            # planted municipality effects on kh -> job/fp/rf (issue 21; truth: municipality_traits)
            entry["muni"] = traits.exit_multipliers(tuple(design.DESTINATIONS["kh"]))
        origins[origin] = entry

    # ---- health chain (observable characteristics only) ---------------------------------------
    hp = params.health
    htype = (pop.psych.astype(np.int64) + 2 * pop.substance).astype(np.int8)
    onset_tab = np.empty((4, AGE_MAX + 1), np.float32)  # P(good -> poor) by type and age
    recov_tab = np.empty(4, np.float32)  # P(poor -> good) by type
    for ty in range(4):
        ps_, sb_ = ty % 2, ty // 2
        lin = (
            _coef(hp.onset, "intercept")
            + _coef(hp.onset, "psych") * ps_
            + _coef(hp.onset, "substance") * sb_
            + _coef(hp.onset, "age10") * (np.arange(AGE_MAX + 1) - 40.0) / 10.0
        )
        onset_tab[ty] = _logistic(lin)
        recov_tab[ty] = _logistic(
            _coef(hp.recovery, "intercept")
            + _coef(hp.recovery, "psych") * ps_
            + _coef(hp.recovery, "substance") * sb_
        )

    # ---- person state arrays ------------------------------------------------------------------
    state = np.full(N, -1, np.int8)  # -1 before entry
    alive = np.zeros(N, bool)  # in the population (entered, not left)
    dur = np.zeros(N, np.int16)
    ep_start = np.zeros(N, np.int16)
    spell_start = np.full(N, -1, np.int16)
    poor = np.zeros(N, bool)
    muni = pop.municipality.astype(np.int16).copy()
    cw = np.full(N, -1, np.int32)
    cw_ring = np.zeros((N, 12), np.int8)
    conv_ring = np.zeros((N, 3), np.int8)
    offer_left = np.zeros(N, np.int8)
    offer_id = np.full(N, -1, np.int32)
    offer_end_t = np.full(N, -9, np.int16)  # month the last offer ended (completed/absence)
    passive = np.zeros(N, bool)  # latent activation regime (affects offers only)
    passive_left = np.zeros(N, np.int16)  # months left in the passive regime
    had_passive = np.zeros(N, bool)  # a passive period already in the current spell
    lt_on = np.zeros(N, bool)
    activity_ready = np.zeros(N, bool)
    exo_left = np.zeros(N, np.int8)
    exo_start = np.full(N, -1, np.int16)
    exo_reason = np.zeros(N, np.int8)
    ill_start = np.full(N, -1, np.int16)
    age_base = pop.birth_year.astype(np.int16)

    # ---- logs ---------------------------------------------------------------------------------
    L_ep = _Log(
        person=np.int32, state=np.int8, start=np.int16, end=np.int16, next=np.int8, muni=np.int16
    )
    L_spell = _Log(person=np.int32, t=np.int16, muni=np.int16, cw=np.int32, ar=bool)
    L_cw = _Log(person=np.int32, t=np.int16, day=np.int8, cw=np.int32, reason=np.int8)
    L_move = _Log(person=np.int32, t=np.int16, close=np.int8, reopen=np.int8, muni=np.int16)
    L_close = _Log(person=np.int32, t=np.int16, close=np.int8, reopen=np.int8)
    L_mg = _Log(person=np.int32, t=np.int16, day=np.int8, ar=bool)
    L_conv = _Log(
        person=np.int32,
        t=np.int16,
        n_job=np.int8,
        n_other=np.int8,
        cw_old=np.int32,
        cw_new=np.int32,
        muni_old=np.int16,
        muni_new=np.int16,
        change_day=np.int8,
    )
    L_offer = _Log(
        person=np.int32, start=np.int16, start_day=np.int8, type=np.int8, end=np.int16,
        end_day=np.int8, outcome=np.int8,
    )  # fmt: skip
    L_exempt = _Log(person=np.int32, start=np.int16, end=np.int16, reason=np.int8, open=bool)
    L_lt = _Log(person=np.int32, t=np.int16)
    L_health = _Log(year=np.int16, n_kh=np.int32, n_poor=np.int32)

    # open offers: start info kept per offer id
    offer_start_t = np.zeros(1024, np.int16)
    offer_start_day = np.zeros(1024, np.int8)
    offer_type = np.zeros(1024, np.int8)
    offer_mentor = np.zeros(1024, bool)  # mentor support running alongside the offer
    n_offers = 0
    MENTOR = len(params.activation.types) - 1

    pool = _Pool()
    rng_aux = rng_for(seed, STREAM_AUX)
    cwp = params.caseworkers
    cp = params.conversations
    ap = params.activation
    lp = params.paid_hours
    ep = params.exemptions
    mg = params.match_group
    db = params.databrud
    type_cum = np.cumsum(ap.type_share)
    type_cum[-1] = 1.0
    mean_months = np.asarray(ap.mean_months)
    same_region = traits.region
    muni_cum = np.cumsum(traits.weight)
    region_cum = {}
    for r in np.unique(traits.region):
        w = np.where(traits.region == r, traits.weight, 0.0)
        region_cum[int(r)] = np.cumsum(w / w.sum())

    cph_i = int(np.flatnonzero(traits.code == 101)[0])
    slg_i = int(np.flatnonzero(traits.code == 330)[0])
    iv = intervention
    iv_t = iv.start_t(y0) if iv is not None else T + 1
    late_t = (2017 - y0) * 12 + 7  # 2017-08

    jr_factor = params.municipalities.job_ready_caseload_factor

    def caseload_at(t: int) -> np.ndarray:
        """Nominal caseload per team unit (municipality * 2 + 1 = activity-ready team)."""
        base = traits.caseload_late if t >= late_t else traits.caseload
        if iv is not None and iv.kind == "caseload" and t >= iv_t:
            base = np.full(M, float(iv.value))
        out = np.empty(2 * M)
        out[1::2] = base
        out[0::2] = base * jr_factor
        return out

    def cw_factor(t: int) -> float:
        if iv is not None and iv.kind == "cw_change_factor" and t >= iv_t:
            return float(iv.value)
        return 1.0

    def alloc_offers(k: int) -> np.ndarray:
        nonlocal offer_start_t, offer_start_day, offer_type, offer_mentor, n_offers
        while n_offers + k > len(offer_start_t):
            offer_start_t = np.concatenate([offer_start_t, np.zeros_like(offer_start_t)])
            offer_start_day = np.concatenate([offer_start_day, np.zeros_like(offer_start_day)])
            offer_type = np.concatenate([offer_type, np.zeros_like(offer_type)])
            offer_mentor = np.concatenate([offer_mentor, np.zeros_like(offer_mentor)])
        ids = np.arange(n_offers, n_offers + k, dtype=np.int32)
        n_offers += k
        return ids

    def end_offers(persons: np.ndarray, t: int, outcome: np.ndarray, dim: int) -> None:
        """Log the end of the current offer of ``persons`` in month t."""
        if len(persons) == 0:
            return
        oid = offer_id[persons]
        st = offer_start_t[oid]
        sd = offer_start_day[oid]
        lo = np.where(st == t, sd, 1)
        end_day = lo + np.floor(rng_aux.random(len(persons)) * (dim - lo + 1)).astype(np.int8)
        L_offer.add(
            person=persons, start=st, start_day=sd, type=offer_type[oid], end=np.full(len(persons), t),
            end_day=end_day, outcome=outcome,
        )  # fmt: skip
        mt = offer_mentor[oid]
        if mt.any():  # the accompanying mentor support ends with the offer
            L_offer.add(
                person=persons[mt], start=st[mt], start_day=sd[mt], type=MENTOR,
                end=np.full(int(mt.sum()), t), end_day=end_day[mt], outcome=outcome[mt],
            )  # fmt: skip
        offer_left[persons] = 0
        offer_id[persons] = -1
        chain = (outcome == OUT_COMPLETED) | (outcome == OUT_ABSENCE)
        offer_end_t[persons[chain]] = t

    def close_kh(persons: np.ndarray, t: int, next_state: np.ndarray, dim: int) -> None:
        """Bookkeeping when persons leave kh after month t (spell ends on the last day of t)."""
        if len(persons) == 0:
            return
        in_offer = persons[offer_id[persons] >= 0]
        if len(in_offer):
            nxt = next_state[np.searchsorted(persons, in_offer)]
            outcome = np.where(nxt == JOB, OUT_COMPLETED, OUT_OTHER).astype(np.int8)
            end_offers(in_offer, t, outcome, dim)
        ex = persons[exo_left[persons] > 0]
        if len(ex):
            L_exempt.add(person=ex, start=exo_start[ex], end=t, reason=exo_reason[ex], open=False)
            exo_left[ex] = 0
        il = persons[ill_start[persons] >= 0]
        if len(il):
            L_exempt.add(person=il, start=ill_start[il], end=t, reason=EX_ILLNESS, open=False)
            ill_start[il] = -1
        cw[persons] = -1
        lt_on[persons] = False
        spell_start[persons] = -1

    for t in range(T):
        year = y0 + t // 12
        mon = t % 12
        dim = int(DAYS_IN_MONTH[mon] + (1 if mon == 1 and _leap(year) else 0))
        n = int(n_entered[t])
        n_prev = int(n_entered[t - 1]) if t > 0 else 0
        U = rng_for(seed, STREAM_MONTH, t).random((n, N_UNIFORMS), dtype=np.float32)
        rng_cw = rng_for(seed, STREAM_CW, t)

        # ---- 1. entrants and health ---------------------------------------------------------
        new = np.arange(n_prev, n)
        age_now = (year - age_base[:n]).astype(np.float32)
        a10 = (age_now - 40.0) / 10.0
        age_i = np.clip(age_now, 0, AGE_MAX).astype(np.int64)
        if len(new):
            state[new] = KH
            alive[new] = True
            dur[new] = 0
            ep_start[new] = t
            spell_start[new] = t
            on = onset_tab[htype[new], age_i[new]]
            off = recov_tab[htype[new]]
            poor[new] = U[new, U_HEALTH] < on / (on + off)
        old = np.flatnonzero(alive[:n_prev])
        if len(old):
            u = U[old, U_HEALTH]
            pold = poor[old]
            poor[old] = np.where(
                pold, u >= recov_tab[htype[old]], u < onset_tab[htype[old], age_i[old]]
            )

        cw_ring[:n, t % 12] = 0
        conv_ring[:n, t % 3] = 0

        kh = np.flatnonzero(alive[:n] & (state[:n] == KH))
        new_spell = spell_start[kh] == t
        L_health.add(
            year=np.array([year]), n_kh=np.array([len(kh)]), n_poor=np.array([poor[kh].sum()])
        )

        # ---- 2. case workers ----------------------------------------------------------------
        # Case workers belong to a team unit: municipality * 2 + (1 activity-ready, 0 job-ready).
        caseload = caseload_at(t)
        fac = cw_factor(t)
        changed = np.zeros(len(kh), bool)
        change_day = np.zeros(len(kh), np.int8)
        cw_old = cw[kh].copy()
        muni_old = muni[kh].copy()
        ns = kh[new_spell]
        if len(ns):  # the match group of a new spell decides its team
            activity_ready[ns] = U[ns, U_MG2] < _p_activity_ready(mg, pop, ns, poor, 0)
        unit_kh = muni[kh].astype(np.int64) * 2 + activity_ready[kh]
        stock = np.bincount(unit_kh, minlength=2 * M)
        # departures: every client of a leaving case worker moves to the replacement on one day
        n_first_new = pool.n  # case workers created from here on are not retired this month
        act = np.flatnonzero(pool.active[: pool.n])
        if len(act):
            u_cw = rng_cw.random(len(act))
            leaving = act[u_cw < traits.turnover[pool.unit[act] // 2] * fac]
            if len(leaving):
                repl = pool.add(pool.unit[leaving])
                pool.active[leaving] = False
                _reassign(
                    kh, cw, leaving, repl, rng_cw, changed, change_day, L_cw, t, CW_DEPARTURE,
                    cw_ring,
                )  # fmt: skip
        # hiring / down-sizing towards the nominal caseload (the register is a sample at `scale`)
        act = np.flatnonzero(pool.active[: pool.n])
        n_act = np.bincount(pool.unit[act], minlength=2 * M)
        target = np.maximum(1, np.ceil(stock / (caseload * scale))).astype(np.int64)
        hire = np.maximum(0, target - n_act)
        if hire.sum():
            pool.add(np.repeat(np.arange(2 * M, dtype=np.int16), hire))
        excess = n_act - np.ceil(target * 1.15).astype(np.int64) - 1
        if (excess > 0).any():
            n_retire = np.where(excess > 0, n_act - target, 0)
            key = rng_cw.random(len(act))
            order = np.lexsort((key, pool.unit[act]))
            srt = act[order]
            m_srt = pool.unit[srt]
            first = np.searchsorted(m_srt, np.arange(2 * M))
            rank = np.arange(len(srt)) - first[m_srt]
            is_ret = (rank < n_retire[m_srt]) & (srt < n_first_new)
            if fac < 1.0:  # the intervention also scales down-sizing moves
                is_ret &= rng_cw.random(len(srt)) < fac
            retire = srt[is_ret]
            if len(retire):
                pool.active[retire] = False
                # all clients of a retiring case worker go to one remaining case worker
                keep = srt[~is_ret]
                keep_m = pool.unit[keep]
                k_first = np.searchsorted(keep_m, np.arange(2 * M))
                k_cnt = np.bincount(keep_m, minlength=2 * M)
                rm = pool.unit[retire]
                pick = k_first[rm] + np.floor(rng_cw.random(len(retire)) * k_cnt[rm]).astype(
                    np.int64
                )
                _reassign(
                    kh, cw, retire, keep[pick], rng_cw, changed, change_day, L_cw, t, CW_DOWNSIZING,
                    cw_ring,
                )  # fmt: skip
        act = np.flatnonzero(pool.active[: pool.n])
        act_m = pool.unit[act]  # ids of one unit are not contiguous
        order = np.argsort(act_m, kind="stable")
        act_sorted = act[order]
        first = np.searchsorted(act_m[order], np.arange(2 * M))
        cnt = np.bincount(act_m, minlength=2 * M)

        def pick_cw(units, u, act_sorted=act_sorted, first=first, cnt=cnt):
            k = np.minimum(np.floor(u * cnt[units]), cnt[units] - 1).astype(np.int64)
            return act_sorted[first[units] + k]

        # new spells: a case worker of the municipality's team for the match group
        if len(ns):
            cw[ns] = pick_cw(muni[ns].astype(np.int64) * 2 + activity_ready[ns], U[ns, U_NEWCW])
            L_spell.add(person=ns, t=t, muni=muni[ns], cw=cw[ns], ar=activity_ready[ns])
        # moves (everyone alive; for kh persons: new case and new case worker)
        alive_idx = np.flatnonzero(alive[:n] & (state[:n] != DEAD))
        mv = alive_idx[U[alive_idx, U_MOVE] < cwp.move_probability]
        if len(mv):
            u2 = U[mv, U_MOVE_DEST].astype(np.float64)
            same = u2 < cwp.same_region_share
            u3 = np.where(
                same,
                u2 / cwp.same_region_share,
                (u2 - cwp.same_region_share) / (1 - cwp.same_region_share),
            )
            dest = np.searchsorted(muni_cum, u3, side="right")
            for r, cum in region_cum.items():
                sel = same & (same_region[muni[mv]] == r)
                dest[sel] = np.searchsorted(cum, u3[sel], side="right")
            dest = np.minimum(dest, M - 1).astype(np.int16)
            moved = dest != muni[mv]
            mv, dest = mv[moved], dest[moved]
            is_kh = state[mv] == KH
            muni[mv[~is_kh]] = dest[~is_kh]
            kpos = np.searchsorted(kh, mv[is_kh])
            d = dest[is_kh]
            ok = ~new_spell[kpos] & ~changed[kpos]
            kpos, d = kpos[ok], d[ok]
            if len(kpos):
                p = kh[kpos]
                close_day = rng_aux.integers(8, 16, len(p)).astype(np.int8)
                gap = rng_aux.integers(db.move_gap_days[0], db.move_gap_days[1] + 1, len(p))
                reopen = (close_day + gap + 1).astype(np.int8)
                muni[p] = d
                cw[p] = pick_cw(d.astype(np.int64) * 2 + activity_ready[p], U[p, U_NEWCW])
                changed[kpos] = True
                change_day[kpos] = reopen
                cw_ring[p, t % 12] += 1
                L_move.add(person=p, t=t, close=close_day, reopen=reopen, muni=d)
                L_cw.add(person=p, t=t, day=reopen, cw=cw[p], reason=CW_MOVE)
        # individual transfers
        elig = ~new_spell & ~changed
        if elig.any():
            pe = kh[elig]
            lc = np.log(caseload[muni[pe].astype(np.int64) * 2 + activity_ready[pe]] / 65.0)
            tr = cwp.transfer
            pt = (
                _logistic(
                    _coef(tr, "intercept")
                    + _coef(tr, "poor_health") * poor[pe]
                    + _coef(tr, "log_caseload") * lc
                )
                * fac
            )
            go = U[pe, U_TRANSFER] < pt
            if go.any():
                p = pe[go]
                m = muni[p].astype(np.int64) * 2 + activity_ready[p]
                c = cnt[m]
                ok = c > 1
                p, m, c = p[ok], m[ok], c[ok]
                k = np.minimum(np.floor(U[p, U_TRANSFER_DEST] * (c - 1)), c - 2).astype(np.int64)
                cand = act_sorted[first[m] + k]
                cand = np.where(cand == cw[p], act_sorted[first[m] + c - 1], cand)
                day = rng_aux.integers(2, 29, len(p)).astype(np.int8)
                cw[p] = cand
                kpos = np.searchsorted(kh, p)
                changed[kpos] = True
                change_day[kpos] = day
                cw_ring[p, t % 12] += 1
                L_cw.add(person=p, t=t, day=day, cw=cand, reason=CW_TRANSFER)

        # ---- 3. administrative events on kh ---------------------------------------------------
        moved_now = muni[kh] != muni_old
        # closed-and-reopened cases (databrud with a gap of days)
        pc = db.closure_probability * np.where(pop.substance[kh], db.closure_substance_factor, 1.0)
        cl = (U[kh, U_CLOSURE] < pc) & ~moved_now
        if cl.any():
            p = kh[cl]
            close_day = rng_aux.integers(8, 16, len(p)).astype(np.int8)
            gap = rng_aux.integers(db.closure_gap_days[0], db.closure_gap_days[1] + 1, len(p))
            L_close.add(
                person=p, t=t, close=close_day, reopen=(close_day + gap + 1).astype(np.int8)
            )
        # match group re-visitation (not in months with a move, closure or case-worker change); a
        # new match group moves the case to the other team: a new case worker on the same day
        rv = ~new_spell & ~moved_now & ~cl & ~changed & (U[kh, U_MG] < mg.revisit_probability)
        if rv.any():
            pos = np.flatnonzero(rv)
            p = kh[pos]
            ar = U[p, U_MG2] < _p_activity_ready(mg, pop, p, poor, t - spell_start[p])
            ch = ar != activity_ready[p]
            if ch.any():
                pos, pch = pos[ch], p[ch]
                activity_ready[pch] = ar[ch]
                day = rng_aux.integers(8, 26, len(pch)).astype(np.int8)
                L_mg.add(person=pch, t=t, day=day, ar=ar[ch])
                cw[pch] = pick_cw(muni[pch].astype(np.int64) * 2 + ar[ch], U[pch, U_TRANSFER_DEST])
                changed[pos] = True
                change_day[pos] = day
                cw_ring[pch, t % 12] += 1
                L_cw.add(person=pch, t=t, day=day, cw=cw[pch], reason=CW_TEAM)
        # exemptions: illness = poor health (observable), maternity/other independent of health
        pk = poor[kh]
        st_ill = kh[pk & (ill_start[kh] < 0)]
        ill_start[st_ill] = t
        en_ill = kh[~pk & (ill_start[kh] >= 0)]
        if len(en_ill):
            L_exempt.add(
                person=en_ill, start=ill_start[en_ill], end=t - 1, reason=EX_ILLNESS, open=False
            )
            ill_start[en_ill] = -1
        no_exo = exo_left[kh] == 0
        fem = pop.female[kh] & pop.has_children[kh] & (age_now[kh] >= 18) & (age_now[kh] <= 42)
        pex = np.where(fem, ep.maternity_start, 0.0) + ep.other_start
        sx = no_exo & (U[kh, U_EXEMPT] < pex)
        if sx.any():
            p = kh[sx]
            is_mat = U[p, U_EXEMPT] < np.where(fem[sx], ep.maternity_start, 0.0)
            lo_m, hi_m = ep.maternity_months
            lo_o, hi_o = ep.other_months
            months = np.where(
                is_mat,
                rng_aux.integers(lo_m, hi_m + 1, len(p)),
                rng_aux.integers(lo_o, hi_o + 1, len(p)),
            )
            exo_left[p] = months
            exo_start[p] = t
            exo_reason[p] = np.where(is_mat, EX_MATERNITY, EX_OTHER)
        exempt_other = exo_left[kh] > 0

        # conversations
        sen = (t - spell_start[kh]).astype(np.float32)
        lc = np.log(caseload[muni[kh].astype(np.int64) * 2 + activity_ready[kh]] / 65.0).astype(
            np.float32
        )
        lam = np.exp(
            cp.job_log_rate
            + traits.conversation[muni[kh]]
            + cp.log_caseload * lc
            + cp.poor_health * pk
            + cp.exempt_other * exempt_other
            + cp.log_dur * np.log1p(sen)
            + _period_value(cp.period, year)
        )
        n_job = _poisson_inv(U[kh, U_CONV_JOB], lam)
        if iv is not None and iv.kind == "min_conversations" and t >= iv_t:
            short = (conv_ring[kh].sum(axis=1) == 0) & (n_job == 0)
            n_job[short] = 1
        n_other = _poisson_inv(U[kh, U_CONV_OTHER], np.full(len(kh), cp.other_rate))
        conv_ring[kh, t % 3] = np.minimum(n_job, 100)
        has = (n_job + n_other) > 0
        if has.any():
            p = kh[has]
            L_conv.add(
                person=p, t=t, n_job=n_job[has], n_other=n_other[has], cw_old=np.where(cw_old[has] >= 0, cw_old[has], cw[p]),
                cw_new=cw[p], muni_old=muni_old[has], muni_new=muni[p], change_day=change_day[has],
            )  # fmt: skip

        # latent activation regime: passive periods of the case (on kh only). A new spell starts
        # active; the first active period ends with probability 1 / first_active_months a month,
        # later ones with 1 / active_months; a passive period lasts a drawn number of months
        # (uniform in passive_months).
        ur, ur2 = U[kh, U_REGIME], U[kh, U_REGIME2]
        plo, phi = ap.passive_months
        length = np.floor(plo + ur2 * (phi - plo + 1)).astype(np.int16)
        pas = passive[kh]
        left = passive_left[kh]
        hp_ = had_passive[kh] & ~new_spell
        p_end_active = np.where(hp_, 1.0 / ap.active_months, 1.0 / ap.first_active_months)
        go_pas = ~new_spell & ~pas & (ur < p_end_active)
        still = ~new_spell & pas & (left > 1)
        new_pas = go_pas | still
        new_left = np.where(go_pas, length, np.where(still, left - 1, 0))
        had_passive[kh] = hp_ | go_pas
        passive[kh] = new_pas
        passive_left[kh] = new_left
        # activation offers
        in_act = np.zeros(len(kh), bool)
        cur = offer_id[kh] >= 0
        if cur.any():
            pos = np.flatnonzero(cur)
            p = kh[pos]
            in_act[pos] = True
            cw12 = cw_ring[p].sum(axis=1)
            ab = ap.absence
            pab = _logistic(
                _coef(ab, "intercept") + _coef(ab, "substance") * pop.substance[p] + _coef(ab, "psych") * pop.psych[p]
                + _coef(ab, "cw_changes_12m") * np.minimum(cw12, design.CAP_CW_CHANGES) + _coef(ab, "log_caseload") * lc[pos]
            )  # fmt: skip
            ill = poor[p] | exempt_other[pos]
            absent = ~ill & (U[p, U_OFFER] < pab)
            offer_left[p] -= 1
            done = ~ill & ~absent & (offer_left[p] <= 0)
            end_offers(p[ill], t, np.full(ill.sum(), OUT_OTHER, np.int8), dim)
            end_offers(p[absent], t, np.full(absent.sum(), OUT_ABSENCE, np.int8), dim)
            end_offers(p[done], t, np.full(done.sum(), OUT_COMPLETED, np.int8), dim)
        can = ~cur & ~pk & ~exempt_other
        if can.any():
            pos = np.flatnonzero(can)
            p = kh[pos]
            ps = _logistic(
                ap.start_intercept + traits.activation[muni[p]] + pop.activation_propensity[p]
                + ap.age10 * a10[p] + _period_value(ap.period, year) + ap.passive_shift * passive[p]
            )  # fmt: skip
            # follow-up offers: offers come in chains separated by passive periods
            ps = np.where((offer_end_t[p] == t - 1) & ~passive[p], ap.chain_continue, ps)
            go = U[p, U_OFFER] < ps
            if go.any():
                pos, p = pos[go], p[go]
                ids = alloc_offers(len(p))
                ty = np.searchsorted(type_cum, U[p, U_OFFER_TYPE], side="right").astype(np.int8)
                mm = mean_months[ty]
                q = 1.0 / mm
                u = np.maximum(U[p, U_OFFER_DUR].astype(np.float64), 1e-12)
                with np.errstate(divide="ignore"):
                    extra = np.where(
                        q < 1.0, np.floor(np.log(u) / np.log1p(-np.minimum(q, 0.999999))), 0.0
                    )
                length = (1 + np.minimum(extra, 60)).astype(np.int8)
                sday = rng_aux.integers(1, 29, len(p)).astype(np.int8)
                offer_start_t[ids] = t
                offer_start_day[ids] = sday
                offer_type[ids] = ty
                # a coordinated course: mentor support alongside the offer, less likely after
                # case-worker changes (R18)
                ms = ap.mentor_support
                pm = _logistic(
                    _coef(ms, "intercept")
                    + _coef(ms, "cw_changes_12m")
                    * np.minimum(cw_ring[p].sum(axis=1), design.CAP_CW_CHANGES)
                )
                offer_mentor[ids] = (ty != MENTOR) & (rng_aux.random(len(p)) < pm)
                offer_id[p] = ids
                offer_left[p] = length - 1
                in_act[pos] = True
                fin = offer_left[p] <= 0
                if fin.any():
                    end_offers(p[fin], t, np.full(fin.sum(), OUT_COMPLETED, np.int8), dim)

        # løntimer (paid hours below the job threshold while on kh)
        cont = lt_on[kh] & (U[kh, U_LT] < np.where(pk, 0.4, lp.continue_))
        pstart = _logistic(
            lp.start_intercept + traits.paid_hours[muni[kh]] + lp.poor_health * pk
            + lp.activity_ready * activity_ready[kh]
            + lp.edu_vocational * (pop.education[kh] == 2) + lp.edu_higher * (pop.education[kh] == 3)
            + lp.age10 * a10[kh] + _period_value(lp.period, year)
        )  # fmt: skip
        start_lt = ~lt_on[kh] & (U[kh, U_LT] < pstart)
        lt = cont | start_lt
        lt_on[kh] = lt
        if lt.any():
            L_lt.add(person=kh[lt], t=t)

        # ---- 4. transitions --------------------------------------------------------------------
        nxt = state[:n].copy()
        next_is_jan = (t + 1) % 12 == 0
        ny = y0 + (t + 1) // 12
        alive_idx = np.flatnonzero(alive[:n])
        st_alive = state[alive_idx]
        order = np.argsort(st_alive, kind="stable")
        bounds = np.searchsorted(st_alive[order], np.arange(10))
        for origin in design.ORIGINS:
            s = design.STATE_INDEX[origin]
            idx = kh if origin == "kh" else alive_idx[order[bounds[s] : bounds[s + 1]]]
            if len(idx) == 0:
                continue
            o = origins[origin]
            d = (t - spell_start[idx]) if origin == "kh" else dur[idx]
            lin = np.minimum(d, T).astype(np.int64) * (AGE_MAX + 1) + np.clip(
                age_now[idx], 0, AGE_MAX
            ).astype(np.int64)
            e = o["static"][idx] * np.take(o["dyn"], lin, axis=0)
            e *= o["period"][year]
            if origin == "kh":
                code = (
                    pk.astype(np.int64)
                    + 2 * np.minimum(cw_ring[idx].sum(axis=1), design.CAP_CW_CHANGES)
                    + 10 * np.minimum(conv_ring[idx].sum(axis=1), design.CAP_CONVERSATIONS)
                    + 40 * in_act
                    + 80 * lt
                    + 160 * ((muni[idx] == cph_i) + 2 * (muni[idx] == slg_i))
                )
                e *= o["kh"][code]
                e *= o["muni"][muni[idx]]  # planted municipality effects (issue 21)
            if o["rf_col"] >= 0 and year < design.RF_FIRST_YEAR:
                e[:, o["rf_col"]] = 0.0
            tot = e.sum(axis=1)
            v = U[idx, U_TRANS] * (1.0 + tot)  # stay unless v < tot (P(stay) = 1 / (1 + tot))
            go = np.flatnonzero(v < tot)
            if len(go):
                cum = np.cumsum(e[go], axis=1)
                k = (v[go, None] > cum).sum(axis=1)
                k = np.minimum(k, e.shape[1] - 1)
                nxt[idx[go]] = o["dest"][k]
        # retirement: leave the population in January of the year of the retirement age
        if next_is_jan:
            ret = np.flatnonzero(
                alive[:n] & (state[:n] != DEAD) & (ny - age_base[:n] >= params.time.retirement_age)
            )
            nxt[ret] = LEFT

        # ---- apply -----------------------------------------------------------------------------
        # no transition out of the last simulated month: everything still running is censored
        chg = alive_idx[nxt[alive_idx] != state[alive_idx]] if t < T - 1 else alive_idx[:0]
        if len(chg):
            L_ep.add(
                person=chg,
                state=state[chg],
                start=ep_start[chg],
                end=t,
                next=nxt[chg],
                muni=muni[chg],
            )
            leave_kh = chg[state[chg] == KH]
            close_kh(leave_kh, t, nxt[leave_kh], dim)
            state[chg] = nxt[chg]
            ep_start[chg] = t + 1
            dur[chg] = 0
            enter_kh = chg[nxt[chg] == KH]
            spell_start[enter_kh] = t + 1
            gone = chg[nxt[chg] == LEFT]
            alive[gone] = False
        stay = alive_idx[nxt[alive_idx] == state[alive_idx]] if t < T - 1 else alive_idx
        dur[stay] = np.minimum(dur[stay] + 1, 32000)
        # other exemptions count down
        k2 = np.flatnonzero(alive[:n] & (state[:n] == KH) & (exo_left[:n] > 0))
        if len(k2):
            exo_left[k2] -= 1
            fin = k2[exo_left[k2] == 0]
            if len(fin):
                L_exempt.add(
                    person=fin, start=exo_start[fin], end=t, reason=exo_reason[fin], open=False
                )
        if progress is not None and (mon == 11 or t == T - 1):
            progress("simulating", year - y0 + 1, T // 12)

    # ---- close everything still open at the end ---------------------------------------------------
    last = T - 1
    alive_idx = np.flatnonzero(alive)
    L_ep.add(
        person=alive_idx,
        state=state[alive_idx],
        start=ep_start[alive_idx],
        end=last,
        next=ONGOING,
        muni=muni[alive_idx],
    )
    op = np.flatnonzero(offer_id >= 0)
    if len(op):
        oid = offer_id[op]
        L_offer.add(
            person=op, start=offer_start_t[oid], start_day=offer_start_day[oid], type=offer_type[oid],
            end=np.full(len(op), last), end_day=np.zeros(len(op)), outcome=np.full(len(op), OUT_ONGOING),
        )  # fmt: skip
        mt = offer_mentor[oid]
        if mt.any():
            L_offer.add(
                person=op[mt], start=offer_start_t[oid][mt], start_day=offer_start_day[oid][mt],
                type=MENTOR, end=np.full(int(mt.sum()), last), end_day=np.zeros(int(mt.sum())),
                outcome=np.full(int(mt.sum()), OUT_ONGOING),
            )  # fmt: skip
    ex = np.flatnonzero(exo_left > 0)
    if len(ex):
        L_exempt.add(person=ex, start=exo_start[ex], end=last, reason=exo_reason[ex], open=True)
    il = np.flatnonzero(ill_start >= 0)
    if len(il):
        L_exempt.add(person=il, start=ill_start[il], end=last, reason=EX_ILLNESS, open=True)

    res = SimResult(
        params=params,
        scale=scale,
        seed=seed,
        intervention=intervention,
        population=pop,
        traits=traits,
        n_months=T,
        caseworker_muni=(pool.unit[: pool.n] // 2).astype(np.int16),
        caseworker_team=(pool.unit[: pool.n] % 2).astype(bool),
    )
    res.logs = {
        "episodes": L_ep.result(),
        "spell_starts": L_spell.result(),
        "cw_changes": L_cw.result(),
        "moves": L_move.result(),
        "closures": L_close.result(),
        "match_group": L_mg.result(),
        "conversations": L_conv.result(),
        "offers": L_offer.result(),
        "exemptions": L_exempt.result(),
        "loentimer": L_lt.result(),
        "health": L_health.result(),
    }
    return res


def _kh_code_grid() -> np.ndarray:
    """(480, 7) matrix of the kh exposures for every code poor + 2 cw + 10 conv + 40 act + 80 lt
    + 160 municipality (0 other, 1 Copenhagen, 2 Slagelse)."""
    rows = []
    for code in range(480):
        poor, r = code % 2, code // 2
        cw, r = r % 5, r // 5
        conv, r = r % 4, r // 4
        act, r = r % 2, r // 2
        lt, mcat = r % 2, r // 2
        rows.append([poor, cw, conv, act, lt, mcat == 1, mcat == 2])
    return np.asarray(rows, dtype=np.float64)


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _p_activity_ready(
    mg, pop: Population, p: np.ndarray, poor: np.ndarray, seniority
) -> np.ndarray:
    sub = np.asarray(mg.subgroup)[pop.subgroup[p]]
    long = np.asarray(seniority) >= 24
    return _logistic(
        mg.intercept + mg.poor_health * poor[p] + mg.psych * pop.psych[p] + mg.substance * pop.substance[p]
        + mg.long_seniority * long + sub
    )  # fmt: skip


def _reassign(kh, cw, old_ids, new_ids, rng, changed, change_day, log, t, reason, cw_ring) -> None:
    """Move every kh client of case workers ``old_ids`` to ``new_ids`` (same position) on one day
    per case worker."""
    if len(kh) == 0:
        return
    remap = np.full(int(max(old_ids.max(), cw[kh].max(initial=0))) + 2, -1, np.int64)
    remap[old_ids] = new_ids
    cur = cw[kh]
    valid = cur >= 0
    tgt = np.full(len(kh), -1, np.int64)
    tgt[valid] = remap[np.minimum(cur[valid], len(remap) - 1)]
    hit = (tgt >= 0) & ~changed
    if not hit.any():
        return
    days_by_cw = np.zeros(len(remap), np.int8)
    days_by_cw[old_ids] = rng.integers(2, 29, len(old_ids))
    pos = np.flatnonzero(hit)
    p = kh[pos]
    day = days_by_cw[cur[pos]]
    cw[p] = tgt[pos]
    changed[pos] = True
    change_day[pos] = day
    cw_ring[p, t % 12] += 1
    log.add(person=p, t=t, day=day, cw=tgt[pos], reason=reason)
