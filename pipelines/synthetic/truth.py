"""Ground truth written beside the synthetic register (``DIR/ground_truth/``).

* ``true_spells.parquet``: person_id, spell_id, spell_start, spell_end (NaT = ongoing on the last
  day of the window), exit_state (state after the spell; ``aged_out`` when the person reached the
  retirement age; missing when ongoing), left_truncated (the spell began before the window, so its
  start is not observable), n_cases (benefit records the spell is written as). Only spells that
  overlap the register window are listed; spell_id counts those, in time order.
* ``true_subgroups.parquet``: person_id, subgroup.
* ``true_monthly_states.parquet``: person_id, month, state - the generator's own state in every
  month of the window while the person is in the population (after the retirement age there are
  no rows; absorbing states continue: fp until the retirement age, dead_or_emigrated to the end).
* ``parameters.json``: every parameter, the exact linear predictors, the true effects.
* ``expected_statistics.json``: the calibrated statistics computed from the truth.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

from pipelines.synthetic import design
from pipelines.synthetic.dynamics import LEFT, ONGOING, SimResult
from pipelines.synthetic.events import Calendar, Columns, KhSpells
from pipelines.synthetic.writer import TS, _dates, _strings

STATE_LABELS = np.array([*design.STATES, "aged_out"])


def true_spells(res: SimResult, sp: KhSpells, kept: np.ndarray, benefit: Columns, pid) -> pa.Table:
    cal = Calendar.of(res)
    sel = (sp.end_t >= cal.t_lo) & np.isin(sp.person, kept)
    idx = np.flatnonzero(sel)
    person = sp.person[idx]
    first = np.r_[True, person[1:] != person[:-1]]
    grp = np.cumsum(first) - 1
    spell_id = np.arange(len(idx)) - np.flatnonzero(first)[grp] + 1
    nxt = sp.next[idx].astype(np.int64)
    exit_code = np.where(nxt == LEFT, len(design.STATES), np.maximum(nxt, 0))
    # benefit records per spell: KH codes whose start falls inside the spell
    kh = np.isin(benefit["benefit_code"], (130, 131, 132, 133))
    bp, bs = benefit["person"][kh], benefit["start_date"][kh]
    lo = np.maximum(sp.start_day[idx], cal.lo)
    key_b = bp.astype(np.int64) * 100_000 + bs.astype(np.int64)
    key_lo = person.astype(np.int64) * 100_000 + lo.astype(np.int64)
    key_hi = person.astype(np.int64) * 100_000 + sp.end_day[idx].astype(np.int64)
    n_cases = np.searchsorted(key_b, key_hi, side="right") - np.searchsorted(
        key_b, key_lo, side="left"
    )
    return pa.table(
        {
            "person_id": pid(person),
            "spell_id": pa.array(spell_id, pa.int64()),
            "spell_start": _dates(sp.start_day[idx]),
            "spell_end": _dates(
                np.where(sp.ongoing[idx], np.datetime64("NaT", "D"), sp.end_day[idx])
            ),
            "exit_state": _strings(STATE_LABELS, exit_code, null=nxt == ONGOING),
            "left_truncated": pa.array(sp.start_day[idx] < cal.lo, pa.bool_()),
            "n_cases": pa.array(n_cases, pa.int64()),
        }
    )


def true_subgroups(res: SimResult, kept: np.ndarray, pid) -> pa.Table:
    return pa.table(
        {
            "person_id": pid(kept),
            "subgroup": _strings(np.asarray(design.SUBGROUPS), res.population.subgroup[kept]),
        }
    )


def monthly_state_rows(
    res: SimResult, kept: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Episodes of kept persons clipped to the window, sorted: (person, start_t, end_t) + state."""
    cal = Calendar.of(res)
    ep = res.logs["episodes"]
    sel = np.isin(ep["person"], kept) & (ep["end"] >= cal.t_lo)
    person, state = ep["person"][sel], ep["state"][sel]
    start = np.maximum(ep["start"][sel].astype(np.int64), cal.t_lo)
    end = ep["end"][sel].astype(np.int64)
    order = np.lexsort((start, person))
    return person[order], np.stack([start[order], end[order], state[order]], axis=1), order


def true_monthly_states(
    res: SimResult, kept: np.ndarray, pid, chunk_rows: int = 4_000_000
) -> Iterator[pa.Table]:
    """The generator's state per person and month, in chunks of about ``chunk_rows`` rows."""
    cal = Calendar.of(res)
    person, ses, _ = monthly_state_rows(res, kept)
    lens = ses[:, 1] - ses[:, 0] + 1
    cum = np.cumsum(lens)
    n_total = int(cum[-1]) if len(cum) else 0
    labels = np.asarray(design.STATES)
    lo_ep = 0
    while lo_ep < len(person):
        hi_ep = int(
            np.searchsorted(cum, (cum[lo_ep - 1] if lo_ep else 0) + chunk_rows, side="right")
        )
        hi_ep = max(hi_ep, lo_ep + 1)
        # never split a person across chunks (keeps the file sorted by person, month)
        while hi_ep < len(person) and person[hi_ep] == person[hi_ep - 1]:
            hi_ep += 1
        p, s = person[lo_ep:hi_ep], ses[lo_ep:hi_ep]
        ln = lens[lo_ep:hi_ep]
        rows = np.repeat(np.arange(len(p)), ln)
        t = np.repeat(s[:, 0], ln) + (np.arange(ln.sum()) - np.repeat(np.cumsum(ln) - ln, ln))
        yield pa.table(
            {
                "person_id": pid(p[rows]),
                "month": pa.array(cal.first(t).astype("datetime64[us]"), TS),
                "state": _strings(labels, s[rows, 2]),
            }
        )
        lo_ep = hi_ep
    if n_total == 0:
        yield pa.table(
            {
                "person_id": pa.array([], pa.string()),
                "month": pa.array([], TS),
                "state": pa.array([], pa.string()),
            }
        )


def parameters_document(res: SimResult, size: str | float) -> dict:
    """Everything about the data-generating process, JSON-serialisable."""
    p = res.params
    kh = p.transitions["kh"]

    def effect(term: str) -> dict:
        out = {}
        for dest in design.DESTINATIONS["kh"]:
            b = float(kh.get(dest, {}).get(term, 0.0))
            out[f"kh->{dest}"] = {
                "log_odds_ratio": b,
                "odds_ratio": round(math.exp(b), 6),
                "hazard_ratio_approx": round(math.exp(b), 6),
            }
        return out

    return {
        "generator": {
            "module": "pipelines.synthetic",
            "size": size,
            "scale": res.scale,
            "seed": res.seed,
            "intervention": None
            if res.intervention is None
            else {
                "kind": res.intervention.kind,
                "value": res.intervention.value,
                "start": res.intervention.start,
            },
            "persons_simulated": int(res.population.n),
        },
        "model": {
            "clock": "monthly; state changes happen on the first day of a month; the state of month "
            "m+1 is drawn at the end of month m from covariates of month m",
            "states": list(design.STATES),
            "absorbing": sorted(design.ABSORBING),
            "destinations": {o: list(d) for o, d in design.DESTINATIONS.items()},
            "linear_predictor": "P(next = k | current = s, x) = exp(eta_sk) / (1 + sum_j exp(eta_sj)); "
            "eta_sk = sum_c beta[s][k][c] * x_c; staying in s is the reference outcome",
            "covariates": design.COVARIATE_DEFINITIONS,
            "covariate_order": list(design.COVARIATES),
            "python": "pipelines.synthetic.design.dynamic_columns/static_columns/design_matrix/"
            "linear_predictors/transition_probabilities",
            "structural_zeros": [
                f"every transition into rf before {design.RF_FIRST_YEAR}-01 (ressourceforløb "
                "did not exist)"
            ],
            "population_exit": f"persons leave the population in January of the year they turn "
            f"{p.time.retirement_age} (all records end the day before; censor there, restrict models to "
            f"age <= {p.time.retirement_age - 1})",
            "no_unobserved_frailty": "transitions depend only on the covariates above; latent processes "
            "(activation regime, person activation propensity) act on offers only, not on exits",
        },
        "transitions": p.transitions,
        "true_effects": {
            "cw_changes_12m": effect("cw_changes_12m"),
            "conv_3m": effect("conv_3m"),
            "poor_health": effect("poor_health"),
            "note": "per unit of the covariate (capped as documented), conditional on every other "
            "covariate of the linear predictor; monthly kh->job probabilities are about 1-2 %, so the "
            "odds ratio is approximately the cause-specific hazard ratio",
        },
        "time_varying_confounding": {
            "confounder": "health (good/poor), a monthly Markov chain depending only on psychiatric "
            "diagnosis, substance abuse and age (parameters in 'health')",
            "observable_as": "exemptions with reason 'illness': every poor-health KH month is covered, "
            "and no other month",
            "effects_of_poor_health": {
                "kh_exits": {
                    d: float(kh.get(d, {}).get("poor_health", 0.0))
                    for d in design.DESTINATIONS["kh"]
                },
                "log_rate_of_job_conversations": p.conversations.poor_health,
                "log_odds_of_transfer_to_another_case_worker": p.caseworkers.transfer.get(
                    "poor_health", 0.0
                ),
                "log_odds_of_activity_ready": p.match_group.poor_health,
                "offers": "no new offers while poor; running offers end (interrupted_other)",
            },
            "no_feedback": "case-worker changes and conversations never affect later health, so a "
            "cause-specific Cox model (or the monthly logit) adjusted for the illness-exemption "
            "indicator and the other covariates is unbiased for the conditional effects above, while "
            "a naive model without it is biased: case-worker change HR too low, conversation HR too high",
        },
        "caseworkers": {
            "caseload": "nominal activity-ready cases per case worker of the municipality "
            "('municipality_traits'); observed clients per case worker in the synthetic register are "
            f"the nominal caseload times the scale ({res.scale}) - divide by the scale",
            "turnover": "a leaving case worker's clients all move to the replacement on the same day",
            "transfer": p.caseworkers.transfer,
            "conversations": p.conversations.model_dump(),
        },
        "municipality_traits": res.traits.to_records(),
        "municipality_effects": municipality_effects(res),
        "parameters": p.to_json_dict(),
    }


def municipality_effects(res: SimResult) -> dict:
    """True municipality log-odds shifts of the monthly kh -> job / fp / rf probabilities (issue 21):
    the planted draw plus the fixed Copenhagen/Slagelse terms of the transition model."""
    kh = res.params.transitions["kh"]
    rec = res.traits.to_records()
    fixed = {101: "muni_copenhagen", 330: "muni_slagelse"}
    out: dict = {
        "definition": "log-odds shift of the monthly probability of leaving kh to the destination "
        "in the municipality of the open KH case, relative to a municipality without effect "
        "(planted draw '<dest>_log_odds' of municipality_traits plus the muni_copenhagen / "
        "muni_slagelse coefficients); monthly probabilities are small, so exp(shift) is about the "
        "cause-specific hazard ratio"
    }
    for dest in ("job", "fp", "rf"):
        out[dest] = {
            str(r["municipality_id"]): round(
                r.get(f"{dest}_log_odds", 0.0)
                + float(kh.get(dest, {}).get(fixed.get(r["municipality_id"], ""), 0.0)),
                6,
            )
            for r in rec
        }
    return out


def write_json(obj: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(obj, indent=2, sort_keys=False, ensure_ascii=False, default=_jsonable) + "\n"
    )


def _jsonable(x: object) -> object:
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x))
