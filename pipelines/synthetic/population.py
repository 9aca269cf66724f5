"""Persons: entry month, latent subgroup, and characteristics drawn independently given the subgroup.

Persons are ordered by the month of their first entry into the kontanthjælp system; the index of a
person is stable for a given seed and size, which the common-random-number scheme of the dynamics
relies on (the same person gets the same random numbers under every intervention).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synthetic import design
from pipelines.synthetic.municipalities import municipality_frame
from pipelines.synthetic.params import SynthParams

# Random-stream ids (SeedSequence spawn keys) used across the package.
STREAM_POPULATION = 100
STREAM_MUNICIPALITY_TRAITS = 101


def rng_for(seed: int, *key: int) -> np.random.Generator:
    """A generator for the stream ``key`` of run ``seed`` (independent of every other stream)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *key])))


@dataclass(frozen=True)
class Population:
    """Person-level arrays, all of length ``n`` (index = person), ordered by ``entry_t``."""

    entry_t: np.ndarray  # month index of first entry (0 = January of start_year)
    birth_year: np.ndarray
    female: np.ndarray
    origin: np.ndarray  # index into design.ORIGIN
    menapt: np.ndarray
    education: np.ndarray  # index into design.EDUCATION
    psych: np.ndarray
    substance: np.ndarray
    has_children: np.ndarray
    children_placed: np.ndarray  # False where no children
    subgroup: np.ndarray  # index into design.SUBGROUPS
    municipality: np.ndarray  # index into municipality_frame() at entry
    newcomer: np.ndarray
    activation_propensity: np.ndarray

    @property
    def n(self) -> int:
        return len(self.entry_t)

    def characteristics(self) -> dict[str, np.ndarray]:
        """Characteristics in the string coding of the register (for design.static_columns)."""
        return {
            "sex": np.where(self.female, "F", "M"),
            "origin": np.asarray(design.ORIGIN)[self.origin],
            "menapt": self.menapt,
            "education": np.asarray(design.EDUCATION)[self.education],
            "psychiatric_diagnosis": self.psych,
            "substance_abuse_treatment": self.substance,
            "children_placed": self.children_placed,
            "subgroup": np.asarray(design.SUBGROUPS)[self.subgroup],
        }


def _by_year(table: dict[int, object], year: int) -> object:
    keys = sorted(table)
    k = max([y for y in keys if y <= year], default=keys[0])
    return table[k]


def _categorical(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF draw: ``probs`` is (n, k) (rows sum to 1), ``u`` uniform (n,)."""
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    return (u[:, None] > cum).sum(axis=1).astype(np.int8)


def n_months(params: SynthParams) -> int:
    return (params.time.end_year - params.time.start_year + 1) * 12


def draw_population(params: SynthParams, scale: float, seed: int) -> Population:
    """Draw every person who ever enters the kontanthjælp system in the simulated period.

    Parameters
    ----------
    params
        Generator parameters.
    scale
        Persons relative to the national population (1.0 = national size).
    seed
        Run seed.
    """
    rng = rng_for(seed, STREAM_POPULATION)
    sp = params.subgroups
    T = n_months(params)
    y0 = params.time.start_year
    # entrants per month: Poisson around the yearly inflow / 12
    lam = np.array([float(_by_year(params.inflow_per_year, y0 + t // 12)) / 12.0 for t in range(T)])
    counts = rng.poisson(lam * scale)
    entry_t = np.repeat(np.arange(T, dtype=np.int16), counts)
    n = len(entry_t)
    entry_year = y0 + entry_t // 12

    munis = municipality_frame()
    w = municipality_traits(params).weight
    muni = np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").astype(np.int16)
    muni = np.minimum(muni, len(munis) - 1)

    # subgroup | entry period, municipality tilt
    share = np.array([_by_year(sp.entry_share, int(y)) for y in range(y0, y0 + T // 12)])
    probs = share[entry_year - y0].astype(np.float64)
    code = munis["municipality_id"].to_numpy()
    for m_code, tilt in sp.municipality_tilt.items():
        sel = code[muni] == m_code
        probs[sel] *= np.asarray(tilt)
    probs /= probs.sum(axis=1, keepdims=True)
    subgroup = _categorical(rng.random(n), probs)

    def per_group(values: list[float]) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)[subgroup]

    def bern(values: list[float]) -> np.ndarray:
        return rng.random(n) < per_group(values)

    female = bern(sp.female)
    origin_p = np.array([sp.origin[g] for g in design.SUBGROUPS])
    origin = _categorical(rng.random(n), origin_p[subgroup])
    menapt = (origin == 2) & bern(sp.menapt_given_non_western)
    edu_p = np.array([sp.education[g] for g in design.SUBGROUPS])
    education = _categorical(rng.random(n), edu_p[subgroup])
    psych = bern(sp.psychiatric_diagnosis)
    substance = bern(sp.substance_abuse_treatment)
    has_children = bern(sp.has_children)
    children_placed = has_children & bern(sp.children_placed_given_children)

    lo, hi = sp.entry_age_range
    age = per_group(sp.entry_age_mean) + per_group(sp.entry_age_sd) * rng.standard_normal(n)
    # reflect into range instead of clipping (no pile-up at the bounds)
    age = np.where(age < lo, 2 * lo - age, age)
    age = np.where(age > hi, 2 * hi - age, age)
    age = np.clip(np.rint(age), lo, hi).astype(np.int16)
    birth_year = (entry_year - age).astype(np.int16)

    newcomer_from = (2015 - y0) * 12 + 6
    newcomer = (origin > 0) & (entry_t >= newcomer_from) & (rng.random(n) < sp.newcomer_share)
    propensity = (params.activation.person_sd * rng.standard_normal(n)).astype(np.float32)

    return Population(
        entry_t=entry_t,
        birth_year=birth_year,
        female=female,
        origin=origin,
        menapt=menapt,
        education=education,
        psych=psych,
        substance=substance,
        has_children=has_children,
        children_placed=children_placed,
        subgroup=subgroup,
        municipality=muni,
        newcomer=newcomer,
        activation_propensity=propensity,
    )


@dataclass(frozen=True)
class MunicipalityTraits:
    """Per-municipality practice, in municipality_frame() order."""

    code: np.ndarray
    region: np.ndarray  # region index
    weight: np.ndarray  # relative share of KH recipients
    caseload: np.ndarray  # nominal cases per case worker (before 2017-08)
    caseload_late: np.ndarray  # from 2017-08
    turnover: np.ndarray  # monthly probability a case worker leaves
    conversation: np.ndarray  # log multiplier of the conversation rate
    activation: np.ndarray  # log-odds shift of starting an offer
    paid_hours: np.ndarray  # log-odds shift of løntimer
    # planted log-odds shifts of the monthly kh -> job / fp / rf probabilities (benchmarking truth)
    job_effect: np.ndarray | None = None
    fp_effect: np.ndarray | None = None
    rf_effect: np.ndarray | None = None

    def exit_multipliers(self, destinations: tuple[str, ...]) -> np.ndarray:
        """exp(shift) per municipality (rows) and kh destination (columns; 1 where none)."""
        out = np.ones((len(self.code), len(destinations)), np.float32)
        for k, shift in (("job", self.job_effect), ("fp", self.fp_effect), ("rf", self.rf_effect)):
            if shift is not None and k in destinations:
                out[:, destinations.index(k)] = np.exp(shift)
        return out

    def to_records(self) -> list[dict]:
        df = municipality_frame()
        return [
            {
                "municipality_id": int(self.code[i]),
                "name": str(df["name"].iloc[i]),
                "region": str(df["region"].iloc[i]),
                "kh_weight": round(float(self.weight[i]), 6),
                "caseload": round(float(self.caseload[i]), 2),
                "caseload_from_2017_08": round(float(self.caseload_late[i]), 2),
                "turnover_monthly": round(float(self.turnover[i]), 5),
                "conversation_log_multiplier": round(float(self.conversation[i]), 4),
                "activation_log_odds": round(float(self.activation[i]), 4),
                "paid_hours_log_odds": round(float(self.paid_hours[i]), 4),
                **{
                    f"{k}_log_odds": round(float(v[i]), 6)
                    for k, v in (
                        ("job", self.job_effect),
                        ("fp", self.fp_effect),
                        ("rf", self.rf_effect),
                    )
                    if v is not None
                },
            }
            for i in range(len(self.code))
        ]


def municipality_traits(params: SynthParams) -> MunicipalityTraits:
    """Draw municipality practice once from ``params.municipalities.trait_seed`` (not the run seed),
    so every run and size shares the same municipalities."""
    mp = params.municipalities
    rng = rng_for(mp.trait_seed, STREAM_MUNICIPALITY_TRAITS)
    df = municipality_frame()
    m = len(df)
    code = df["municipality_id"].to_numpy()
    regions = sorted(df["region"].unique())
    region = np.array([regions.index(r) for r in df["region"]], dtype=np.int8)
    w = df["population_k"].to_numpy() * df["kh_index"].to_numpy()
    for c, f in mp.kh_weight_factor.items():
        w[np.flatnonzero(df["municipality_id"].to_numpy() == c)] *= f
    caseload = np.clip(
        mp.caseload_median * np.exp(mp.caseload_log_sd * rng.standard_normal(m)), *mp.caseload_range
    )
    turnover_noise = np.exp(mp.turnover_log_sd * rng.standard_normal(m))
    conversation = mp.conversation_log_sd * rng.standard_normal(m)
    activation = mp.activation_sd * rng.standard_normal(m)
    paid_hours = mp.paid_hours_sd * rng.standard_normal(m)
    pos = {int(c): i for i, c in enumerate(code)}
    caseload[pos[101]] = mp.caseload_copenhagen_before_2017
    for c, v in mp.caseload_fixed.items():
        caseload[pos[c]] = v
    late = caseload.copy()
    for c, v in mp.caseload_from_2017.items():
        late[pos[c]] = v
    turnover = (
        mp.turnover_base * (caseload / 65.0) ** mp.turnover_caseload_elasticity * turnover_noise
    )
    for c, v in mp.turnover_fixed.items():
        turnover[pos[c]] = v
    for c, v in mp.conversation_fixed.items():
        conversation[pos[c]] = v
    share = w / w.sum()
    # drawn after every other trait, so the earlier traits do not change with these parameters
    job_effect, fp_effect, rf_effect = (
        _centred_effect(sd * rng.standard_normal(m), share)
        for sd in (mp.job_effect_sd, mp.fp_rf_effect_sd, mp.fp_rf_effect_sd)
    )
    return MunicipalityTraits(
        code=code,
        region=region,
        weight=w / w.sum(),
        caseload=caseload,
        caseload_late=late,
        turnover=np.clip(turnover, 0.0, 0.2),
        conversation=conversation,
        activation=activation,
        paid_hours=paid_hours,
        job_effect=job_effect,
        fp_effect=fp_effect,
        rf_effect=rf_effect,
    )


def _centred_effect(shift: np.ndarray, share: np.ndarray) -> np.ndarray:
    """``shift`` minus log of its share-weighted mean of exp(): the weighted mean multiplier is 1."""
    return shift - np.log(np.sum(share * np.exp(shift)))
