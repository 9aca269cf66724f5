"""Speed and memory of the STAR 2022 statistics (analysis.star2022) on a random register.

The register is a crude random one (not the calibrated synthetic register): persons with one to
three KH spells between 1995 and 2023, a case per spell, offers, exemptions, conversations, paid
hours and case-worker assignments at roughly real densities. Goal: the default size (100,000
persons) in under 60 seconds and 4 GB; national size (500,000 persons) is extrapolated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks._measure import peak_rss_mb, timed

DAY0 = np.datetime64("1995-01-01", "D")
DAYS = int((np.datetime64("2023-12-31", "D") - DAY0).astype(int))


def _dates(d: np.ndarray) -> pd.Series:
    return pd.Series((DAY0 + d.astype("timedelta64[D]")).astype("datetime64[ns]"))


def random_register(n: int, seed: int = 1) -> dict[str, pd.DataFrame]:
    """Register tables and derived frames for ``n`` random persons."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"p{i:07d}" for i in range(n)], dtype=object)
    persons = pd.DataFrame(
        {
            "person_id": ids,
            "birth_year": rng.integers(1950, 2000, n),
            "sex": rng.choice(["M", "F"], n),
            "origin": rng.choice(["danish", "western", "non_western"], n, p=[0.6, 0.1, 0.3]),
            "education": rng.choice(["basic", "vocational", "higher", "unknown"], n),
            "psychiatric_diagnosis": rng.random(n) < 0.4,
            "substance_abuse_treatment": rng.random(n) < 0.2,
            "has_children": rng.random(n) < 0.5,
            "municipality_id": rng.choice([101, 330, 461, 751, 851], n),
        }
    )
    persons["menapt"] = (persons["origin"] == "non_western") & (rng.random(n) < 0.7)
    persons["children_placed"] = pd.array(
        np.where(persons["has_children"], rng.random(n) < 0.3, None), dtype="boolean"
    )
    k = rng.integers(1, 4, n)
    pid = np.repeat(ids, k)
    m = len(pid)
    start = rng.integers(0, DAYS - 30, m)
    length = rng.exponential(1500, m).astype(int) + 30
    end = start + length
    open_end = end >= DAYS
    order = np.lexsort((start, pid))
    pid, start, end, open_end = pid[order], start[order], end[order], open_end[order]
    # drop spells overlapping the previous spell of the same person
    same = np.r_[False, pid[1:] == pid[:-1]]
    prev_end = np.r_[0, end[:-1]]
    keep = ~(same & (start <= prev_end + 40))
    pid, start, end, open_end = pid[keep], start[keep], end[keep], open_end[keep]
    m = len(pid)
    spells = pd.DataFrame(
        {
            "person_id": pid,
            "spell_start": _dates(start),
            "spell_end": _dates(np.minimum(end, DAYS)).where(~open_end),
        }
    )
    spells["spell_id"] = spells.groupby("person_id").cumcount() + 1
    benefit = pd.DataFrame(
        {
            "person_id": pid,
            "case_id": [f"c{i}" for i in range(m)],
            "benefit_code": rng.choice(["130", "131", "132"], m),
            "start_date": spells["spell_start"],
            "end_date": spells["spell_end"],
            "municipality_id": rng.choice([101, 330, 461, 751, 851], m),
            "match_group": rng.choice(["job_ready", "activity_ready"], m),
        }
    )

    def events(per_person: float, max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        j = rng.integers(0, m, int(per_person * n))
        s = start[j] + (rng.random(len(j)) * (np.minimum(end[j], DAYS) - start[j])).astype(int)
        e = np.minimum(s + rng.integers(1, max_len, len(j)), DAYS)
        return pid[j], s, e

    op, os_, oe = events(6, 200)
    offers = pd.DataFrame(
        {
            "person_id": op,
            "offer_id": [f"o{i}" for i in range(len(op))],
            "offer_type": rng.choice(
                [
                    "company_placement",
                    "wage_subsidy",
                    "guidance_upskilling",
                    "utility_work",
                    "mentor",
                ],
                len(op),
            ),
            "start_date": _dates(os_),
            "end_date": _dates(oe),
            "outcome": rng.choice(
                ["completed", "interrupted_absence", "interrupted_other"], len(op)
            ),
        }
    )
    ep, es, ee = events(1, 150)
    exemptions = pd.DataFrame(
        {"person_id": ep, "start_date": _dates(es), "end_date": _dates(ee), "reason": "illness"}
    )
    cp, cs, _ = events(40, 2)
    conversations = pd.DataFrame(
        {
            "person_id": cp,
            "conversation_date": _dates(cs),
            "conversation_type": rng.choice(["job", "other"], len(cp), p=[0.7, 0.3]),
            "municipality_id": 101,
            "caseworker_id": "x",
        }
    )
    hp, hs, _ = events(4, 2)
    months = _dates(hs).dt.to_period("M").dt.to_timestamp()
    paid = pd.DataFrame(
        {"person_id": hp, "month": months, "paid_hours": rng.uniform(1, 60, len(hp))}
    ).drop_duplicates(["person_id", "month"])
    ap, as_, _ = events(4, 2)
    order = np.lexsort((as_, ap))
    ap, as_ = ap[order], as_[order]
    nxt_same = np.r_[ap[1:] == ap[:-1], False]
    ae = np.where(nxt_same, np.r_[as_[1:], 0] - 1, DAYS)
    ok = ae >= as_
    assignments = pd.DataFrame(
        {
            "person_id": ap[ok],
            "caseworker_id": rng.choice([f"cw{i}" for i in range(max(n // 60, 5))], ok.sum()),
            "municipality_id": rng.choice([101, 330, 461, 751, 851], ok.sum()),
            "start_date": _dates(as_[ok]),
            "end_date": _dates(ae[ok]).where(ae[ok] < DAYS),
        }
    )
    q1 = int((np.datetime64("2018-01-01", "D") - DAY0).astype(int))
    in_q1 = (start <= q1 + 89) & (np.minimum(end, DAYS) >= q1)
    cohort = spells[in_q1].drop_duplicates("person_id").copy()
    cohort["cohort"] = "2018Q1"
    cohort["reference_date"] = pd.Timestamp("2018-01-01")
    cohort["seniority_group"] = "5_10"
    states = rng.choice(
        ["kh", "job", "fp", "rf", "self_support"], (len(cohort), 4), p=[0.8, 0.08, 0.04, 0.04, 0.04]
    )
    seq = pd.DataFrame(
        {
            "person_id": np.repeat(cohort["person_id"].to_numpy(), 4),
            "cohort": "2018Q1",
            "half_year": np.tile(np.arange(1, 5), len(cohort)),
            "state": states.ravel(),
        }
    )
    return dict(
        persons=persons,
        benefit_spells=benefit,
        activation_offers=offers,
        exemptions=exemptions,
        conversations=conversations,
        monthly_paid_hours=paid,
        caseworker_assignments=assignments,
        spells=spells,
        cohort=cohort,
        sequences=seq,
    )


def run(quick: bool = False) -> dict:
    from analysis.star2022 import StarInputs, StarParameters, compute_star2022
    from pipelines.reproduction import load_published

    n = 10_000 if quick else 100_000
    reg = random_register(n)
    rows = {k: len(v) for k, v in reg.items()}
    inputs = StarInputs(**reg)

    def go():
        res = compute_star2022(inputs, StarParameters(), threshold=5)
        return res.publish(load_published(), threshold=5)

    wall, out = timed(go)
    return {
        "persons": n,
        "rows": rows,
        "wall_s": round(wall, 2),
        "peak_mb": round(peak_rss_mb(), 1),
        "goal": "100,000 persons in < 60 s and < 4 GB",
        "pass": (wall < 60 and peak_rss_mb() < 4096) if not quick else None,
        "figures": int(len(out["star2022"])),
    }
