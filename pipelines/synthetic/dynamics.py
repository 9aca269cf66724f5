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

    Each month runs the steps of the module docstring in order, each a function over the
    simulation state :class:`_Sim` (the per-person arrays in :class:`PersonState`) and the month's
    draws and working arrays :class:`_Month`; the random numbers are drawn in a fixed order, so
    the same seed gives identical results.
    """
    s = _setup(params, size, seed, intervention)
    for t in range(s.T):
        m = _start_month(s, t)
        _health_and_entrants(s, m)
        _caseworker_turnover(s, m)
        _new_spells_and_moves(s, m)
        _transfers(s, m)
        _closures_and_match_group(s, m)
        _exemptions(s, m)
        _conversations(s, m)
        _activation(s, m)
        _loentimer(s, m)
        nxt = _transitions(s, m)
        _apply_transitions(s, m, nxt)
        if progress is not None and (m.mon == 11 or t == s.T - 1):
            progress("simulating", m.year - s.y0 + 1, s.T // 12)
    _close_open(s)
    return _result(s)


@dataclass
class PersonState:
    """The per-person arrays of the simulation (index = person in entry order)."""

    state: np.ndarray  # int8 state index, -1 before entry
    alive: np.ndarray  # in the population (entered, not left)
    dur: np.ndarray  # months in the current state
    ep_start: np.ndarray  # month the current episode started
    spell_start: np.ndarray  # month the current kh spell started (-1 off kh)
    poor: np.ndarray  # poor health
    muni: np.ndarray  # municipality index
    cw: np.ndarray  # case worker id (-1 off kh)
    cw_ring: np.ndarray  # (N, 12) case-worker changes in the last 12 months
    conv_ring: np.ndarray  # (N, 3) job conversations in the last 3 months
    offer_left: np.ndarray  # months left of the current offer
    offer_id: np.ndarray  # id of the current offer (-1 none)
    offer_end_t: np.ndarray  # month the last offer ended (completed/absence)
    passive: np.ndarray  # latent activation regime (affects offers only)
    passive_left: np.ndarray  # months left in the passive regime
    had_passive: np.ndarray  # a passive period already in the current spell
    lt_on: np.ndarray  # løntimer running
    activity_ready: np.ndarray  # match group
    exo_left: np.ndarray  # months left of a maternity/other exemption
    exo_start: np.ndarray
    exo_reason: np.ndarray
    ill_start: np.ndarray  # start month of the running illness exemption (-1 none)
    age_base: np.ndarray  # birth year
    htype: np.ndarray  # health type: psych + 2 * substance

    @classmethod
    def empty(cls, pop: Population) -> PersonState:
        N = pop.n
        return cls(
            state=np.full(N, -1, np.int8),
            alive=np.zeros(N, bool),
            dur=np.zeros(N, np.int16),
            ep_start=np.zeros(N, np.int16),
            spell_start=np.full(N, -1, np.int16),
            poor=np.zeros(N, bool),
            muni=pop.municipality.astype(np.int16).copy(),
            cw=np.full(N, -1, np.int32),
            cw_ring=np.zeros((N, 12), np.int8),
            conv_ring=np.zeros((N, 3), np.int8),
            offer_left=np.zeros(N, np.int8),
            offer_id=np.full(N, -1, np.int32),
            offer_end_t=np.full(N, -9, np.int16),
            passive=np.zeros(N, bool),
            passive_left=np.zeros(N, np.int16),
            had_passive=np.zeros(N, bool),
            lt_on=np.zeros(N, bool),
            activity_ready=np.zeros(N, bool),
            exo_left=np.zeros(N, np.int8),
            exo_start=np.full(N, -1, np.int16),
            exo_reason=np.zeros(N, np.int8),
            ill_start=np.full(N, -1, np.int16),
            age_base=pop.birth_year.astype(np.int16),
            htype=(pop.psych.astype(np.int64) + 2 * pop.substance).astype(np.int8),
        )


class _Offers:
    """Start information of every offer by offer id (grows by doubling)."""

    def __init__(self, cap: int = 1024):
        self.start_t = np.zeros(cap, np.int16)
        self.start_day = np.zeros(cap, np.int8)
        self.type = np.zeros(cap, np.int8)
        self.mentor = np.zeros(cap, bool)  # mentor support running alongside the offer
        self.n = 0

    def alloc(self, k: int) -> np.ndarray:
        while self.n + k > len(self.start_t):
            self.start_t = np.concatenate([self.start_t, np.zeros_like(self.start_t)])
            self.start_day = np.concatenate([self.start_day, np.zeros_like(self.start_day)])
            self.type = np.concatenate([self.type, np.zeros_like(self.type)])
            self.mentor = np.concatenate([self.mentor, np.zeros_like(self.mentor)])
        ids = np.arange(self.n, self.n + k, dtype=np.int32)
        self.n += k
        return ids


def _new_logs() -> dict[str, _Log]:
    """The event logs, keyed as in :attr:`SimResult.logs`."""
    return {
        "episodes": _Log(
            person=np.int32, state=np.int8, start=np.int16, end=np.int16, next=np.int8,
            muni=np.int16,
        ),
        "spell_starts": _Log(person=np.int32, t=np.int16, muni=np.int16, cw=np.int32, ar=bool),
        "cw_changes": _Log(person=np.int32, t=np.int16, day=np.int8, cw=np.int32, reason=np.int8),
        "moves": _Log(person=np.int32, t=np.int16, close=np.int8, reopen=np.int8, muni=np.int16),
        "closures": _Log(person=np.int32, t=np.int16, close=np.int8, reopen=np.int8),
        "match_group": _Log(person=np.int32, t=np.int16, day=np.int8, ar=bool),
        "conversations": _Log(
            person=np.int32, t=np.int16, n_job=np.int8, n_other=np.int8, cw_old=np.int32,
            cw_new=np.int32, muni_old=np.int16, muni_new=np.int16, change_day=np.int8,
        ),
        "offers": _Log(
            person=np.int32, start=np.int16, start_day=np.int8, type=np.int8, end=np.int16,
            end_day=np.int8, outcome=np.int8,
        ),
        "exemptions": _Log(person=np.int32, start=np.int16, end=np.int16, reason=np.int8, open=bool),
        "loentimer": _Log(person=np.int32, t=np.int16),
        "health": _Log(year=np.int16, n_kh=np.int32, n_poor=np.int32),
    }  # fmt: skip


@dataclass
class _Sim:
    """The simulation: inputs, precomputed tables, the person state, logs and case workers."""

    params: SynthParams
    scale: float
    seed: int
    intervention: Intervention | None
    pop: Population
    traits: MunicipalityTraits
    T: int
    y0: int
    M: int
    n_entered: np.ndarray
    origins: dict[str, dict]
    onset_tab: np.ndarray  # P(good -> poor) by health type and age
    recov_tab: np.ndarray  # P(poor -> good) by health type
    p: PersonState
    logs: dict[str, _Log]
    offers: _Offers
    pool: _Pool
    rng_aux: np.random.Generator
    iv_t: int
    late_t: int
    type_cum: np.ndarray
    mean_months: np.ndarray
    muni_cum: np.ndarray
    region_cum: dict[int, np.ndarray]
    cph_i: int
    slg_i: int
    mentor: int  # offer type index of mentor support

    def caseload_at(self, t: int) -> np.ndarray:
        """Nominal caseload per team unit (municipality * 2 + 1 = activity-ready team)."""
        iv, M = self.intervention, self.M
        base = self.traits.caseload_late if t >= self.late_t else self.traits.caseload
        if iv is not None and iv.kind == "caseload" and t >= self.iv_t:
            base = np.full(M, float(iv.value))
        out = np.empty(2 * M)
        out[1::2] = base
        out[0::2] = base * self.params.municipalities.job_ready_caseload_factor
        return out

    def cw_factor(self, t: int) -> float:
        iv = self.intervention
        if iv is not None and iv.kind == "cw_change_factor" and t >= self.iv_t:
            return float(iv.value)
        return 1.0


@dataclass
class _Month:
    """Draws and working arrays of one month (positions ``[i]`` refer to ``kh``)."""

    t: int
    year: int
    mon: int
    dim: int  # days in the month
    n: int  # persons entered so far
    n_prev: int
    U: np.ndarray  # (n, N_UNIFORMS) uniforms (common random numbers)
    rng_cw: np.random.Generator
    age_now: np.ndarray
    a10: np.ndarray
    age_i: np.ndarray
    kh: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    new_spell: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    caseload: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fac: float = 1.0
    changed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    change_day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    cw_old: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int32))
    muni_old: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    ns: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # new spells
    act_sorted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    first: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cnt: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    moved_now: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    closed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    pk: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))  # poor health on kh
    exempt_other: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    lc: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # log caseload / 65
    in_act: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    lt: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))

    def pick_cw(self, units: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A case worker of each team unit (active this month), by uniform ``u``."""
        cnt = self.cnt
        k = np.minimum(np.floor(u * cnt[units]), cnt[units] - 1).astype(np.int64)
        return self.act_sorted[self.first[units] + k]


def _origin_tables(
    params: SynthParams, pop: Population, traits: MunicipalityTraits, T: int
) -> dict[str, dict]:
    """Precomputed multiplicative factors of exp(eta) per origin state.

    Speed: no exp() of linear predictors in the monthly loop: exp(eta) = exp(static part) *
    exp(duration/age part) * exp(period part) [* exp(kh exposure part)]. The probabilities are
    exactly those of design.linear_predictors.
    """
    y0 = params.time.start_year
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
    return origins


def _health_tables(params: SynthParams) -> tuple[np.ndarray, np.ndarray]:
    """Health chain (observable characteristics only): P(good -> poor) by type and age, and
    P(poor -> good) by type (type = psych + 2 * substance)."""
    hp = params.health
    onset_tab = np.empty((4, AGE_MAX + 1), np.float32)
    recov_tab = np.empty(4, np.float32)
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
    return onset_tab, recov_tab


def _setup(
    params: SynthParams, size: str | float, seed: int, intervention: Intervention | None
) -> _Sim:
    """Population, municipality traits, precomputed tables and the empty state."""
    scale = params.scale(size)
    pop = draw_population(params, scale, seed)
    traits = municipality_traits(params)
    T = n_months(params)
    y0 = params.time.start_year
    origins = _origin_tables(params, pop, traits, T)
    onset_tab, recov_tab = _health_tables(params)
    rng_aux = rng_for(seed, STREAM_AUX)
    ap = params.activation
    type_cum = np.cumsum(ap.type_share)
    type_cum[-1] = 1.0
    region_cum = {}
    for r in np.unique(traits.region):
        w = np.where(traits.region == r, traits.weight, 0.0)
        region_cum[int(r)] = np.cumsum(w / w.sum())
    return _Sim(
        params=params,
        scale=scale,
        seed=seed,
        intervention=intervention,
        pop=pop,
        traits=traits,
        T=T,
        y0=y0,
        M=len(traits.code),
        n_entered=np.searchsorted(pop.entry_t, np.arange(T), side="right"),
        origins=origins,
        onset_tab=onset_tab,
        recov_tab=recov_tab,
        p=PersonState.empty(pop),
        logs=_new_logs(),
        offers=_Offers(),
        pool=_Pool(),
        rng_aux=rng_aux,
        iv_t=intervention.start_t(y0) if intervention is not None else T + 1,
        late_t=(2017 - y0) * 12 + 7,  # 2017-08
        type_cum=type_cum,
        mean_months=np.asarray(ap.mean_months),
        muni_cum=np.cumsum(traits.weight),
        region_cum=region_cum,
        cph_i=int(np.flatnonzero(traits.code == 101)[0]),
        slg_i=int(np.flatnonzero(traits.code == 330)[0]),
        mentor=len(ap.types) - 1,
    )


def _end_offers(s: _Sim, persons: np.ndarray, t: int, outcome: np.ndarray, dim: int) -> None:
    """Log the end of the current offer of ``persons`` in month t."""
    if len(persons) == 0:
        return
    p, o, L_offer = s.p, s.offers, s.logs["offers"]
    oid = p.offer_id[persons]
    st = o.start_t[oid]
    sd = o.start_day[oid]
    lo = np.where(st == t, sd, 1)
    end_day = lo + np.floor(s.rng_aux.random(len(persons)) * (dim - lo + 1)).astype(np.int8)
    L_offer.add(
        person=persons, start=st, start_day=sd, type=o.type[oid], end=np.full(len(persons), t),
        end_day=end_day, outcome=outcome,
    )  # fmt: skip
    mt = o.mentor[oid]
    if mt.any():  # the accompanying mentor support ends with the offer
        L_offer.add(
            person=persons[mt], start=st[mt], start_day=sd[mt], type=s.mentor,
            end=np.full(int(mt.sum()), t), end_day=end_day[mt], outcome=outcome[mt],
        )  # fmt: skip
    p.offer_left[persons] = 0
    p.offer_id[persons] = -1
    chain = (outcome == OUT_COMPLETED) | (outcome == OUT_ABSENCE)
    p.offer_end_t[persons[chain]] = t


def _close_kh(s: _Sim, persons: np.ndarray, t: int, next_state: np.ndarray, dim: int) -> None:
    """Bookkeeping when persons leave kh after month t (spell ends on the last day of t)."""
    if len(persons) == 0:
        return
    p, L_exempt = s.p, s.logs["exemptions"]
    in_offer = persons[p.offer_id[persons] >= 0]
    if len(in_offer):
        nxt = next_state[np.searchsorted(persons, in_offer)]
        outcome = np.where(nxt == JOB, OUT_COMPLETED, OUT_OTHER).astype(np.int8)
        _end_offers(s, in_offer, t, outcome, dim)
    ex = persons[p.exo_left[persons] > 0]
    if len(ex):
        L_exempt.add(person=ex, start=p.exo_start[ex], end=t, reason=p.exo_reason[ex], open=False)
        p.exo_left[ex] = 0
    il = persons[p.ill_start[persons] >= 0]
    if len(il):
        L_exempt.add(person=il, start=p.ill_start[il], end=t, reason=EX_ILLNESS, open=False)
        p.ill_start[il] = -1
    p.cw[persons] = -1
    p.lt_on[persons] = False
    p.spell_start[persons] = -1


def _start_month(s: _Sim, t: int) -> _Month:
    """The month's calendar, uniforms and ages."""
    year = s.y0 + t // 12
    mon = t % 12
    n = int(s.n_entered[t])
    age_now = (year - s.p.age_base[:n]).astype(np.float32)
    return _Month(
        t=t,
        year=year,
        mon=mon,
        dim=int(DAYS_IN_MONTH[mon] + (1 if mon == 1 and _leap(year) else 0)),
        n=n,
        n_prev=int(s.n_entered[t - 1]) if t > 0 else 0,
        U=rng_for(s.seed, STREAM_MONTH, t).random((n, N_UNIFORMS), dtype=np.float32),
        rng_cw=rng_for(s.seed, STREAM_CW, t),
        age_now=age_now,
        a10=(age_now - 40.0) / 10.0,
        age_i=np.clip(age_now, 0, AGE_MAX).astype(np.int64),
    )


def _health_and_entrants(s: _Sim, m: _Month) -> None:
    """Step 1: entrants start a kh spell; health moves one step for everyone in the population."""
    p, t, n, U, age_i = s.p, m.t, m.n, m.U, m.age_i
    new = np.arange(m.n_prev, n)
    if len(new):
        p.state[new] = KH
        p.alive[new] = True
        p.dur[new] = 0
        p.ep_start[new] = t
        p.spell_start[new] = t
        on = s.onset_tab[p.htype[new], age_i[new]]
        off = s.recov_tab[p.htype[new]]
        p.poor[new] = U[new, U_HEALTH] < on / (on + off)
    old = np.flatnonzero(p.alive[: m.n_prev])
    if len(old):
        u = U[old, U_HEALTH]
        pold = p.poor[old]
        p.poor[old] = np.where(
            pold, u >= s.recov_tab[p.htype[old]], u < s.onset_tab[p.htype[old], age_i[old]]
        )

    p.cw_ring[:n, t % 12] = 0
    p.conv_ring[:n, t % 3] = 0

    kh = np.flatnonzero(p.alive[:n] & (p.state[:n] == KH))
    m.kh = kh
    m.new_spell = p.spell_start[kh] == t
    s.logs["health"].add(
        year=np.array([m.year]), n_kh=np.array([len(kh)]), n_poor=np.array([p.poor[kh].sum()])
    )


def _caseworker_turnover(s: _Sim, m: _Month) -> None:
    """Step 2a: case-worker departures, hiring and down-sizing towards the nominal caseload.

    Case workers belong to a team unit: municipality * 2 + (1 activity-ready, 0 job-ready).
    """
    p, pool, t, U, kh, M = s.p, s.pool, m.t, m.U, m.kh, s.M
    rng_cw, L_cw = m.rng_cw, s.logs["cw_changes"]
    m.caseload = caseload = s.caseload_at(t)
    m.fac = fac = s.cw_factor(t)
    m.changed = changed = np.zeros(len(kh), bool)
    m.change_day = change_day = np.zeros(len(kh), np.int8)
    m.cw_old = p.cw[kh].copy()
    m.muni_old = p.muni[kh].copy()
    m.ns = ns = kh[m.new_spell]
    if len(ns):  # the match group of a new spell decides its team
        p.activity_ready[ns] = U[ns, U_MG2] < _p_activity_ready(
            s.params.match_group, s.pop, ns, p.poor, 0
        )
    unit_kh = p.muni[kh].astype(np.int64) * 2 + p.activity_ready[kh]
    stock = np.bincount(unit_kh, minlength=2 * M)
    # departures: every client of a leaving case worker moves to the replacement on one day
    n_first_new = pool.n  # case workers created from here on are not retired this month
    act = np.flatnonzero(pool.active[: pool.n])
    if len(act):
        u_cw = rng_cw.random(len(act))
        leaving = act[u_cw < s.traits.turnover[pool.unit[act] // 2] * fac]
        if len(leaving):
            repl = pool.add(pool.unit[leaving])
            pool.active[leaving] = False
            _reassign(
                kh, p.cw, leaving, repl, rng_cw, changed, change_day, L_cw, t, CW_DEPARTURE,
                p.cw_ring,
            )  # fmt: skip
    # hiring / down-sizing towards the nominal caseload (the register is a sample at `scale`)
    act = np.flatnonzero(pool.active[: pool.n])
    n_act = np.bincount(pool.unit[act], minlength=2 * M)
    target = np.maximum(1, np.ceil(stock / (caseload * s.scale))).astype(np.int64)
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
            pick = k_first[rm] + np.floor(rng_cw.random(len(retire)) * k_cnt[rm]).astype(np.int64)
            _reassign(
                kh, p.cw, retire, keep[pick], rng_cw, changed, change_day, L_cw, t, CW_DOWNSIZING,
                p.cw_ring,
            )  # fmt: skip
    act = np.flatnonzero(pool.active[: pool.n])
    act_m = pool.unit[act]  # ids of one unit are not contiguous
    order = np.argsort(act_m, kind="stable")
    m.act_sorted = act[order]
    m.first = np.searchsorted(act_m[order], np.arange(2 * M))
    m.cnt = np.bincount(act_m, minlength=2 * M)


def _new_spells_and_moves(s: _Sim, m: _Month) -> None:
    """Step 2b: a case worker for new spells; moves between municipalities (everyone alive; for
    kh persons: new case and new case worker)."""
    p, t, n, U, kh, M, ns = s.p, m.t, m.n, m.U, m.kh, s.M, m.ns
    cwp, db, muni, cw = s.params.caseworkers, s.params.databrud, s.p.muni, s.p.cw
    # new spells: a case worker of the municipality's team for the match group
    if len(ns):
        cw[ns] = m.pick_cw(muni[ns].astype(np.int64) * 2 + p.activity_ready[ns], U[ns, U_NEWCW])
        s.logs["spell_starts"].add(
            person=ns, t=t, muni=muni[ns], cw=cw[ns], ar=p.activity_ready[ns]
        )
    alive_idx = np.flatnonzero(p.alive[:n] & (p.state[:n] != DEAD))
    mv = alive_idx[U[alive_idx, U_MOVE] < cwp.move_probability]
    if not len(mv):
        return
    u2 = U[mv, U_MOVE_DEST].astype(np.float64)
    same = u2 < cwp.same_region_share
    u3 = np.where(
        same,
        u2 / cwp.same_region_share,
        (u2 - cwp.same_region_share) / (1 - cwp.same_region_share),
    )
    dest = np.searchsorted(s.muni_cum, u3, side="right")
    for r, cum in s.region_cum.items():
        sel = same & (s.traits.region[muni[mv]] == r)
        dest[sel] = np.searchsorted(cum, u3[sel], side="right")
    dest = np.minimum(dest, M - 1).astype(np.int16)
    moved = dest != muni[mv]
    mv, dest = mv[moved], dest[moved]
    is_kh = p.state[mv] == KH
    muni[mv[~is_kh]] = dest[~is_kh]
    kpos = np.searchsorted(kh, mv[is_kh])
    d = dest[is_kh]
    ok = ~m.new_spell[kpos] & ~m.changed[kpos]
    kpos, d = kpos[ok], d[ok]
    if len(kpos):
        q = kh[kpos]
        close_day = s.rng_aux.integers(8, 16, len(q)).astype(np.int8)
        gap = s.rng_aux.integers(db.move_gap_days[0], db.move_gap_days[1] + 1, len(q))
        reopen = (close_day + gap + 1).astype(np.int8)
        muni[q] = d
        cw[q] = m.pick_cw(d.astype(np.int64) * 2 + p.activity_ready[q], U[q, U_NEWCW])
        m.changed[kpos] = True
        m.change_day[kpos] = reopen
        p.cw_ring[q, t % 12] += 1
        s.logs["moves"].add(person=q, t=t, close=close_day, reopen=reopen, muni=d)
        s.logs["cw_changes"].add(person=q, t=t, day=reopen, cw=cw[q], reason=CW_MOVE)


def _transfers(s: _Sim, m: _Month) -> None:
    """Step 2c: individual transfers to another case worker of the same team."""
    p, t, U, kh = s.p, m.t, m.U, m.kh
    elig = ~m.new_spell & ~m.changed
    if not elig.any():
        return
    pe = kh[elig]
    lc = np.log(m.caseload[p.muni[pe].astype(np.int64) * 2 + p.activity_ready[pe]] / 65.0)
    tr = s.params.caseworkers.transfer
    pt = (
        _logistic(
            _coef(tr, "intercept")
            + _coef(tr, "poor_health") * p.poor[pe]
            + _coef(tr, "log_caseload") * lc
        )
        * m.fac
    )
    go = U[pe, U_TRANSFER] < pt
    if go.any():
        q = pe[go]
        u = p.muni[q].astype(np.int64) * 2 + p.activity_ready[q]
        c = m.cnt[u]
        ok = c > 1
        q, u, c = q[ok], u[ok], c[ok]
        k = np.minimum(np.floor(U[q, U_TRANSFER_DEST] * (c - 1)), c - 2).astype(np.int64)
        cand = m.act_sorted[m.first[u] + k]
        cand = np.where(cand == p.cw[q], m.act_sorted[m.first[u] + c - 1], cand)
        day = s.rng_aux.integers(2, 29, len(q)).astype(np.int8)
        p.cw[q] = cand
        kpos = np.searchsorted(kh, q)
        m.changed[kpos] = True
        m.change_day[kpos] = day
        p.cw_ring[q, t % 12] += 1
        s.logs["cw_changes"].add(person=q, t=t, day=day, cw=cand, reason=CW_TRANSFER)


def _closures_and_match_group(s: _Sim, m: _Month) -> None:
    """Step 3a: closed-and-reopened cases (databrud with a gap of days); match-group re-visitation
    (not in months with a move, closure or case-worker change): a new match group moves the case
    to the other team, with a new case worker on the same day."""
    p, t, U, kh, pop = s.p, m.t, m.U, m.kh, s.pop
    db, mg, rng_aux = s.params.databrud, s.params.match_group, s.rng_aux
    m.moved_now = moved_now = p.muni[kh] != m.muni_old
    pc = db.closure_probability * np.where(pop.substance[kh], db.closure_substance_factor, 1.0)
    m.closed = cl = (U[kh, U_CLOSURE] < pc) & ~moved_now
    if cl.any():
        q = kh[cl]
        close_day = rng_aux.integers(8, 16, len(q)).astype(np.int8)
        gap = rng_aux.integers(db.closure_gap_days[0], db.closure_gap_days[1] + 1, len(q))
        s.logs["closures"].add(
            person=q, t=t, close=close_day, reopen=(close_day + gap + 1).astype(np.int8)
        )
    rv = ~m.new_spell & ~moved_now & ~cl & ~m.changed & (U[kh, U_MG] < mg.revisit_probability)
    if rv.any():
        pos = np.flatnonzero(rv)
        q = kh[pos]
        ar = U[q, U_MG2] < _p_activity_ready(mg, pop, q, p.poor, t - p.spell_start[q])
        ch = ar != p.activity_ready[q]
        if ch.any():
            pos, pch = pos[ch], q[ch]
            p.activity_ready[pch] = ar[ch]
            day = rng_aux.integers(8, 26, len(pch)).astype(np.int8)
            s.logs["match_group"].add(person=pch, t=t, day=day, ar=ar[ch])
            p.cw[pch] = m.pick_cw(
                p.muni[pch].astype(np.int64) * 2 + ar[ch], U[pch, U_TRANSFER_DEST]
            )
            m.changed[pos] = True
            m.change_day[pos] = day
            p.cw_ring[pch, t % 12] += 1
            s.logs["cw_changes"].add(person=pch, t=t, day=day, cw=p.cw[pch], reason=CW_TEAM)


def _exemptions(s: _Sim, m: _Month) -> None:
    """Step 3b: exemptions: illness = poor health (observable), maternity/other independent of
    health."""
    p, t, U, kh, pop, ep = s.p, m.t, m.U, m.kh, s.pop, s.params.exemptions
    L_exempt = s.logs["exemptions"]
    m.pk = pk = p.poor[kh]
    st_ill = kh[pk & (p.ill_start[kh] < 0)]
    p.ill_start[st_ill] = t
    en_ill = kh[~pk & (p.ill_start[kh] >= 0)]
    if len(en_ill):
        L_exempt.add(
            person=en_ill, start=p.ill_start[en_ill], end=t - 1, reason=EX_ILLNESS, open=False
        )
        p.ill_start[en_ill] = -1
    no_exo = p.exo_left[kh] == 0
    age_now = m.age_now
    fem = pop.female[kh] & pop.has_children[kh] & (age_now[kh] >= 18) & (age_now[kh] <= 42)
    pex = np.where(fem, ep.maternity_start, 0.0) + ep.other_start
    sx = no_exo & (U[kh, U_EXEMPT] < pex)
    if sx.any():
        q = kh[sx]
        is_mat = U[q, U_EXEMPT] < np.where(fem[sx], ep.maternity_start, 0.0)
        lo_m, hi_m = ep.maternity_months
        lo_o, hi_o = ep.other_months
        months = np.where(
            is_mat,
            s.rng_aux.integers(lo_m, hi_m + 1, len(q)),
            s.rng_aux.integers(lo_o, hi_o + 1, len(q)),
        )
        p.exo_left[q] = months
        p.exo_start[q] = t
        p.exo_reason[q] = np.where(is_mat, EX_MATERNITY, EX_OTHER)
    m.exempt_other = p.exo_left[kh] > 0


def _conversations(s: _Sim, m: _Month) -> None:
    """Step 3c: job conversations (Poisson, rate by caseload, health, exemption, seniority,
    period) and other conversations."""
    p, t, U, kh, cp, iv = s.p, m.t, m.U, m.kh, s.params.conversations, s.intervention
    muni = p.muni
    sen = (t - p.spell_start[kh]).astype(np.float32)
    m.lc = np.log(m.caseload[muni[kh].astype(np.int64) * 2 + p.activity_ready[kh]] / 65.0).astype(
        np.float32
    )
    lam = np.exp(
        cp.job_log_rate
        + s.traits.conversation[muni[kh]]
        + cp.log_caseload * m.lc
        + cp.poor_health * m.pk
        + cp.exempt_other * m.exempt_other
        + cp.log_dur * np.log1p(sen)
        + _period_value(cp.period, m.year)
    )
    n_job = _poisson_inv(U[kh, U_CONV_JOB], lam)
    if iv is not None and iv.kind == "min_conversations" and t >= s.iv_t:
        short = (p.conv_ring[kh].sum(axis=1) == 0) & (n_job == 0)
        n_job[short] = 1
    n_other = _poisson_inv(U[kh, U_CONV_OTHER], np.full(len(kh), cp.other_rate))
    p.conv_ring[kh, t % 3] = np.minimum(n_job, 100)
    has = (n_job + n_other) > 0
    if has.any():
        q = kh[has]
        cw_old = m.cw_old[has]
        s.logs["conversations"].add(
            person=q, t=t, n_job=n_job[has], n_other=n_other[has], cw_old=np.where(cw_old >= 0, cw_old, p.cw[q]),
            cw_new=p.cw[q], muni_old=m.muni_old[has], muni_new=muni[q], change_day=m.change_day[has],
        )  # fmt: skip


def _activation(s: _Sim, m: _Month) -> None:
    """Step 3d: the latent activation regime and activation offers.

    Passive periods of the case (on kh only): a new spell starts active; the first active period
    ends with probability 1 / first_active_months a month, later ones with 1 / active_months; a
    passive period lasts a drawn number of months (uniform in passive_months).
    """
    p, U, kh, new_spell, ap = s.p, m.U, m.kh, m.new_spell, s.params.activation
    ur, ur2 = U[kh, U_REGIME], U[kh, U_REGIME2]
    plo, phi = ap.passive_months
    length = np.floor(plo + ur2 * (phi - plo + 1)).astype(np.int16)
    pas = p.passive[kh]
    left = p.passive_left[kh]
    hp_ = p.had_passive[kh] & ~new_spell
    p_end_active = np.where(hp_, 1.0 / ap.active_months, 1.0 / ap.first_active_months)
    go_pas = ~new_spell & ~pas & (ur < p_end_active)
    still = ~new_spell & pas & (left > 1)
    new_pas = go_pas | still
    new_left = np.where(go_pas, length, np.where(still, left - 1, 0))
    p.had_passive[kh] = hp_ | go_pas
    p.passive[kh] = new_pas
    p.passive_left[kh] = new_left
    m.in_act = np.zeros(len(kh), bool)
    cur = p.offer_id[kh] >= 0
    if cur.any():
        _running_offers(s, m, np.flatnonzero(cur))
    can = ~cur & ~m.pk & ~m.exempt_other
    if can.any():
        _start_offers(s, m, np.flatnonzero(can))


def _running_offers(s: _Sim, m: _Month, pos: np.ndarray) -> None:
    """Running offers (positions ``pos`` in kh): end by illness, absence or completion."""
    p, t, pop, ab = s.p, m.t, s.pop, s.params.activation.absence
    q = m.kh[pos]
    m.in_act[pos] = True
    cw12 = p.cw_ring[q].sum(axis=1)
    pab = _logistic(
        _coef(ab, "intercept") + _coef(ab, "substance") * pop.substance[q] + _coef(ab, "psych") * pop.psych[q]
        + _coef(ab, "cw_changes_12m") * np.minimum(cw12, design.CAP_CW_CHANGES) + _coef(ab, "log_caseload") * m.lc[pos]
    )  # fmt: skip
    ill = p.poor[q] | m.exempt_other[pos]
    absent = ~ill & (m.U[q, U_OFFER] < pab)
    p.offer_left[q] -= 1
    done = ~ill & ~absent & (p.offer_left[q] <= 0)
    _end_offers(s, q[ill], t, np.full(ill.sum(), OUT_OTHER, np.int8), m.dim)
    _end_offers(s, q[absent], t, np.full(absent.sum(), OUT_ABSENCE, np.int8), m.dim)
    _end_offers(s, q[done], t, np.full(done.sum(), OUT_COMPLETED, np.int8), m.dim)


def _start_offers(s: _Sim, m: _Month, pos: np.ndarray) -> None:
    """New offers for persons (positions ``pos`` in kh) without one, in good health, not exempt;
    follow-up offers come in chains separated by passive periods."""
    p, t, U, pop, ap, o = s.p, m.t, m.U, s.pop, s.params.activation, s.offers
    q = m.kh[pos]
    ps = _logistic(
        ap.start_intercept + s.traits.activation[p.muni[q]] + pop.activation_propensity[q]
        + ap.age10 * m.a10[q] + _period_value(ap.period, m.year) + ap.passive_shift * p.passive[q]
    )  # fmt: skip
    ps = np.where((p.offer_end_t[q] == t - 1) & ~p.passive[q], ap.chain_continue, ps)
    go = U[q, U_OFFER] < ps
    if not go.any():
        return
    pos, q = pos[go], q[go]
    ids = o.alloc(len(q))
    ty = np.searchsorted(s.type_cum, U[q, U_OFFER_TYPE], side="right").astype(np.int8)
    mm = s.mean_months[ty]
    qq = 1.0 / mm
    u = np.maximum(U[q, U_OFFER_DUR].astype(np.float64), 1e-12)
    with np.errstate(divide="ignore"):
        extra = np.where(qq < 1.0, np.floor(np.log(u) / np.log1p(-np.minimum(qq, 0.999999))), 0.0)
    length = (1 + np.minimum(extra, 60)).astype(np.int8)
    sday = s.rng_aux.integers(1, 29, len(q)).astype(np.int8)
    o.start_t[ids] = t
    o.start_day[ids] = sday
    o.type[ids] = ty
    # a coordinated course: mentor support alongside the offer, less likely after case-worker
    # changes (R18)
    ms = ap.mentor_support
    pm = _logistic(
        _coef(ms, "intercept")
        + _coef(ms, "cw_changes_12m") * np.minimum(p.cw_ring[q].sum(axis=1), design.CAP_CW_CHANGES)
    )
    o.mentor[ids] = (ty != s.mentor) & (s.rng_aux.random(len(q)) < pm)
    p.offer_id[q] = ids
    p.offer_left[q] = length - 1
    m.in_act[pos] = True
    fin = p.offer_left[q] <= 0
    if fin.any():
        _end_offers(s, q[fin], t, np.full(fin.sum(), OUT_COMPLETED, np.int8), m.dim)


def _loentimer(s: _Sim, m: _Month) -> None:
    """Step 3e: løntimer (paid hours below the job threshold while on kh)."""
    p, U, kh, pk, pop, lp = s.p, m.U, m.kh, m.pk, s.pop, s.params.paid_hours
    cont = p.lt_on[kh] & (U[kh, U_LT] < np.where(pk, 0.4, lp.continue_))
    pstart = _logistic(
        lp.start_intercept + s.traits.paid_hours[p.muni[kh]] + lp.poor_health * pk
        + lp.activity_ready * p.activity_ready[kh]
        + lp.edu_vocational * (pop.education[kh] == 2) + lp.edu_higher * (pop.education[kh] == 3)
        + lp.age10 * m.a10[kh] + _period_value(lp.period, m.year)
    )  # fmt: skip
    start_lt = ~p.lt_on[kh] & (U[kh, U_LT] < pstart)
    m.lt = lt = cont | start_lt
    p.lt_on[kh] = lt
    if lt.any():
        s.logs["loentimer"].add(person=kh[lt], t=m.t)


def _kh_exit_hazard(s: _Sim, m: _Month, idx: np.ndarray, e: np.ndarray) -> np.ndarray:
    """The kh exits' factors exp(eta) (job, fp, rf, ...) times the month's kh exposures: health,
    case-worker changes, conversations, activation, løntimer, Copenhagen/Slagelse."""
    p, o = s.p, s.origins["kh"]
    code = (
        m.pk.astype(np.int64)
        + 2 * np.minimum(p.cw_ring[idx].sum(axis=1), design.CAP_CW_CHANGES)
        + 10 * np.minimum(p.conv_ring[idx].sum(axis=1), design.CAP_CONVERSATIONS)
        + 40 * m.in_act
        + 80 * m.lt
        + 160 * ((p.muni[idx] == s.cph_i) + 2 * (p.muni[idx] == s.slg_i))
    )
    e *= o["kh"][code]
    e *= o["muni"][p.muni[idx]]  # planted municipality effects (issue 21)
    return e


def _transitions(s: _Sim, m: _Month) -> np.ndarray:
    """Step 4: the multinomial-logit transition to the state of month t + 1 (and retirement)."""
    p, t, n, T, year = s.p, m.t, m.n, s.T, m.year
    nxt = p.state[:n].copy()
    alive_idx = np.flatnonzero(p.alive[:n])
    st_alive = p.state[alive_idx]
    order = np.argsort(st_alive, kind="stable")
    bounds = np.searchsorted(st_alive[order], np.arange(10))
    for origin in design.ORIGINS:
        st = design.STATE_INDEX[origin]
        idx = m.kh if origin == "kh" else alive_idx[order[bounds[st] : bounds[st + 1]]]
        if len(idx) == 0:
            continue
        o = s.origins[origin]
        d = (t - p.spell_start[idx]) if origin == "kh" else p.dur[idx]
        lin = np.minimum(d, T).astype(np.int64) * (AGE_MAX + 1) + np.clip(
            m.age_now[idx], 0, AGE_MAX
        ).astype(np.int64)
        e = o["static"][idx] * np.take(o["dyn"], lin, axis=0)
        e *= o["period"][year]
        if origin == "kh":
            e = _kh_exit_hazard(s, m, idx, e)
        if o["rf_col"] >= 0 and year < design.RF_FIRST_YEAR:
            e[:, o["rf_col"]] = 0.0
        tot = e.sum(axis=1)
        v = m.U[idx, U_TRANS] * (1.0 + tot)  # stay unless v < tot (P(stay) = 1 / (1 + tot))
        go = np.flatnonzero(v < tot)
        if len(go):
            cum = np.cumsum(e[go], axis=1)
            k = (v[go, None] > cum).sum(axis=1)
            k = np.minimum(k, e.shape[1] - 1)
            nxt[idx[go]] = o["dest"][k]
    # retirement: leave the population in January of the year of the retirement age
    if (t + 1) % 12 == 0:
        ny = s.y0 + (t + 1) // 12
        ret = np.flatnonzero(
            p.alive[:n]
            & (p.state[:n] != DEAD)
            & (ny - p.age_base[:n] >= s.params.time.retirement_age)
        )
        nxt[ret] = LEFT
    return nxt


def _apply_transitions(s: _Sim, m: _Month, nxt: np.ndarray) -> None:
    """Apply the month's transitions (no transition out of the last simulated month: everything
    still running is censored); other exemptions count down."""
    p, t, n, T = s.p, m.t, m.n, s.T
    state = p.state
    alive_idx = np.flatnonzero(p.alive[:n])
    chg = alive_idx[nxt[alive_idx] != state[alive_idx]] if t < T - 1 else alive_idx[:0]
    if len(chg):
        s.logs["episodes"].add(
            person=chg,
            state=state[chg],
            start=p.ep_start[chg],
            end=t,
            next=nxt[chg],
            muni=p.muni[chg],
        )
        leave_kh = chg[state[chg] == KH]
        _close_kh(s, leave_kh, t, nxt[leave_kh], m.dim)
        state[chg] = nxt[chg]
        p.ep_start[chg] = t + 1
        p.dur[chg] = 0
        enter_kh = chg[nxt[chg] == KH]
        p.spell_start[enter_kh] = t + 1
        gone = chg[nxt[chg] == LEFT]
        p.alive[gone] = False
    stay = alive_idx[nxt[alive_idx] == state[alive_idx]] if t < T - 1 else alive_idx
    p.dur[stay] = np.minimum(p.dur[stay] + 1, 32000)
    k2 = np.flatnonzero(p.alive[:n] & (state[:n] == KH) & (p.exo_left[:n] > 0))
    if len(k2):
        p.exo_left[k2] -= 1
        fin = k2[p.exo_left[k2] == 0]
        if len(fin):
            s.logs["exemptions"].add(
                person=fin, start=p.exo_start[fin], end=t, reason=p.exo_reason[fin], open=False
            )


def _close_open(s: _Sim) -> None:
    """Close everything still open at the end (episodes, offers, exemptions) as ongoing."""
    p, o, last = s.p, s.offers, s.T - 1
    L_offer, L_exempt = s.logs["offers"], s.logs["exemptions"]
    alive_idx = np.flatnonzero(p.alive)
    s.logs["episodes"].add(
        person=alive_idx,
        state=p.state[alive_idx],
        start=p.ep_start[alive_idx],
        end=last,
        next=ONGOING,
        muni=p.muni[alive_idx],
    )
    op = np.flatnonzero(p.offer_id >= 0)
    if len(op):
        oid = p.offer_id[op]
        L_offer.add(
            person=op, start=o.start_t[oid], start_day=o.start_day[oid], type=o.type[oid],
            end=np.full(len(op), last), end_day=np.zeros(len(op)), outcome=np.full(len(op), OUT_ONGOING),
        )  # fmt: skip
        mt = o.mentor[oid]
        if mt.any():
            L_offer.add(
                person=op[mt], start=o.start_t[oid][mt], start_day=o.start_day[oid][mt],
                type=s.mentor, end=np.full(int(mt.sum()), last), end_day=np.zeros(int(mt.sum())),
                outcome=np.full(int(mt.sum()), OUT_ONGOING),
            )  # fmt: skip
    ex = np.flatnonzero(p.exo_left > 0)
    if len(ex):
        L_exempt.add(person=ex, start=p.exo_start[ex], end=last, reason=p.exo_reason[ex], open=True)
    il = np.flatnonzero(p.ill_start >= 0)
    if len(il):
        L_exempt.add(person=il, start=p.ill_start[il], end=last, reason=EX_ILLNESS, open=True)


def _result(s: _Sim) -> SimResult:
    res = SimResult(
        params=s.params,
        scale=s.scale,
        seed=s.seed,
        intervention=s.intervention,
        population=s.pop,
        traits=s.traits,
        n_months=s.T,
        caseworker_muni=(s.pool.unit[: s.pool.n] // 2).astype(np.int16),
        caseworker_team=(s.pool.unit[: s.pool.n] % 2).astype(bool),
    )
    res.logs = {name: log.result() for name, log in s.logs.items()}
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
