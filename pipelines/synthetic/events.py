"""Register tables from a simulation: what a real extract would contain, including databrud.

Every builder returns a column dict of numpy arrays: ``person`` is the person index of the
simulation (turned into a ``person_id`` string by the writer), dates are ``datetime64[D]`` with
``NaT`` for an open end. Only the register window (``time.record_from`` .. 31 December of
``time.end_year``) is kept: records ending before it are dropped, earlier starts are set to its
first day (left truncation, as in a real extract).

Databrud (one true uninterrupted KH spell written as several cases), see README.md:

* move to another municipality: the case closes and a new case opens in the new municipality
  after a gap of ``databrud.move_gap_days`` days (new case worker);
* closed-and-reopened case: a gap of ``databrud.closure_gap_days`` days (always < 13 days, so no
  calendar month is ever without benefit and the month stays predominantly on KH);
* reforms: 2014-01-01 under-30s without a qualifying education move from 130 to 131
  (uddannelseshjælp) and back to 130 on 1 January of the year they turn 30; newcomers' spells from
  2016 are written as 132 (integrationsydelse) and moved to 133 (SHO) on 2020-01-01;
* case-system conversions: in the municipalities of ``municipalities.conversion_dates`` every open
  KH case is closed the day before the conversion and re-opened on it (sometimes a few days later);
* match-group changes: the case is closed and re-opened the next day with the new match group.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.synthetic.dynamics import (
    DEAD,
    EDU,
    FJ,
    FP,
    JOB,
    KH,
    LEFT,
    OB,
    ONGOING,
    OUT_ONGOING,
    RF,
    SimResult,
)
from pipelines.synthetic.population import rng_for

STREAM_EVENTS = 20
Columns = dict[str, np.ndarray]
NAT = np.datetime64("NaT", "D")
OUTCOMES = np.array(["completed", "interrupted_absence", "interrupted_other", "ongoing"])
REASONS = np.array(["illness", "maternity", "other"])
BIG = 1_000_000


@dataclass(frozen=True)
class Calendar:
    """Month index <-> calendar days for a simulation."""

    start_year: int
    n_months: int
    lo: np.datetime64  # first day of the register window
    hi: np.datetime64  # last day of the register window

    @classmethod
    def of(cls, res: SimResult) -> Calendar:
        p = res.params.time
        return cls(
            p.start_year,
            res.n_months,
            np.datetime64(p.record_from, "D"),
            np.datetime64(f"{p.end_year}-12-31", "D"),
        )

    def first(self, t: np.ndarray | int) -> np.ndarray:
        return (np.datetime64(f"{self.start_year}-01", "M") + np.asarray(t, np.int64)).astype(
            "datetime64[D]"
        )

    def last(self, t: np.ndarray | int) -> np.ndarray:
        return self.first(np.asarray(t, np.int64) + 1) - np.timedelta64(1, "D")

    def days_in(self, t: np.ndarray | int) -> np.ndarray:
        return (self.last(t) - self.first(t)).astype(np.int64) + 1

    @property
    def t_lo(self) -> int:
        y, m = (int(x) for x in str(self.lo)[:7].split("-"))
        return (y - self.start_year) * 12 + m - 1


def _clip_window(cols: Columns, cal: Calendar, start: str, end: str) -> Columns:
    """Drop rows that end before the window; move earlier starts to its first day."""
    e = cols[end]
    keep = np.isnat(e) | (e >= cal.lo)
    keep &= cols[start] <= cal.hi
    out = {k: v[keep] for k, v in cols.items()}
    out[start] = np.maximum(out[start], cal.lo)
    return out


def _sort(cols: Columns, *keys: str) -> Columns:
    order = np.lexsort(tuple(cols[k] for k in reversed(keys)))
    return {k: v[order] for k, v in cols.items()}


def _sort_person_day(cols: Columns, day: str, minor: str | None = None) -> Columns:
    """Sort by (person, day[, minor]) with one int64 key (much faster than lexsort)."""
    key = cols["person"].astype(np.int64) << 24
    key += cols[day].astype("datetime64[D]").astype(np.int64) << 3
    if minor is not None:
        key += cols[minor].astype(np.int64)
    order = np.argsort(key, kind="stable")
    return {k: v[order] for k, v in cols.items()}


PERSON_BLOCK = 60_000
"""Persons per block when big tables are built and written in pieces (fixed: the blocks, and so
the random numbers of each block, do not depend on the size of the register)."""


def person_blocks(kept: np.ndarray) -> list[tuple[int, int]]:
    """[lo, hi) person-index ranges of consecutive blocks of ``PERSON_BLOCK`` kept persons."""
    out = []
    for i in range(0, len(kept), PERSON_BLOCK):
        j = min(i + PERSON_BLOCK, len(kept))
        out.append((int(kept[i]), int(kept[j - 1]) + 1))
    return out or [(0, 0)]


def keep_mask(res: SimResult, kept: np.ndarray) -> np.ndarray:
    m = np.zeros(res.population.n, bool)
    m[kept] = True
    return m


def _ffill_groups(values: np.ndarray, missing: int = -1) -> np.ndarray:
    """Forward-fill ``missing`` entries (each group's first entry must be present)."""
    pos = np.where(values != missing, np.arange(len(values)), 0)
    np.maximum.accumulate(pos, out=pos)
    return values[pos]


# ---------------------------------------------------------------------------------------------
# KH spells and their lookup
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class KhSpells:
    person: np.ndarray
    start_t: np.ndarray
    end_t: np.ndarray
    next: np.ndarray
    start_day: np.ndarray
    end_day: np.ndarray  # last day on KH (within the simulated period)
    ongoing: np.ndarray
    muni: np.ndarray  # municipality index at spell start
    cw: np.ndarray  # first case worker
    ar: np.ndarray  # activity-ready at spell start

    def __len__(self) -> int:
        return len(self.person)

    def find(self, person: np.ndarray, t: np.ndarray, n_months: int) -> np.ndarray:
        """Spell index of each (person, month) event; -1 where the event is outside a spell."""
        key = self.person.astype(np.int64) * n_months + self.start_t
        q = person.astype(np.int64) * n_months + t
        i = np.searchsorted(key, q, side="right") - 1
        ok = (
            (i >= 0)
            & (self.person[np.maximum(i, 0)] == person)
            & (self.end_t[np.maximum(i, 0)] >= t)
        )
        return np.where(ok, i, -1)


def kh_spells(res: SimResult) -> KhSpells:
    """True KH spells (consecutive months in state kh) with their start attributes."""
    cal = Calendar.of(res)
    ep = res.logs["episodes"]
    sel = ep["state"] == KH
    person, start, end, nxt = ep["person"][sel], ep["start"][sel], ep["end"][sel], ep["next"][sel]
    order = np.lexsort((start, person))
    person, start, end, nxt = person[order], start[order], end[order], nxt[order]
    ss = res.logs["spell_starts"]
    key = person.astype(np.int64) * res.n_months + start
    skey = ss["person"].astype(np.int64) * res.n_months + ss["t"]
    o = np.argsort(skey)
    pos = np.searchsorted(skey[o], key)
    if not np.array_equal(skey[o][pos], key):
        raise RuntimeError("every KH spell must have a logged start")
    j = o[pos]
    return KhSpells(
        person=person,
        start_t=start.astype(np.int64),
        end_t=end.astype(np.int64),
        next=nxt,
        start_day=cal.first(start),
        end_day=cal.last(end),
        ongoing=nxt == ONGOING,
        muni=ss["muni"][j],
        cw=ss["cw"][j],
        ar=ss["ar"][j],
    )


def kept_persons(res: SimResult, spells: KhSpells) -> np.ndarray:
    """Persons with at least one KH month inside the register window (the extract population)."""
    cal = Calendar.of(res)
    return np.unique(spells.person[spells.end_t >= cal.t_lo])


# ---------------------------------------------------------------------------------------------
# benefit_spells
# ---------------------------------------------------------------------------------------------
def _kh_code(
    res: SimResult, person: np.ndarray, spell_start: np.ndarray, d: np.ndarray
) -> np.ndarray:
    db = res.params.databrud
    pop = res.population
    d14 = np.datetime64(db.uddannelseshjaelp_from, "D")
    d16 = np.datetime64(db.integrationsydelse_from, "D")
    d20 = np.datetime64(db.sho_from, "D")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    age = year - pop.birth_year[person]
    no_quali = np.isin(pop.education[person], (0, 1, 4))  # basic, upper secondary, unknown
    newcomer = pop.newcomer[person] & (spell_start >= d16)
    young = (d >= d14) & (age < 30) & no_quali
    return np.where(newcomer, np.where(d < d20, 132, 133), np.where(young, 131, 130)).astype(
        np.int16
    )


def _splits(res: SimResult, sp: KhSpells, rng: np.random.Generator) -> Columns:
    """Every place where a true KH spell is cut into cases: (spell, close, reopen, muni, ar)."""
    cal = Calendar.of(res)
    T = res.n_months
    parts: list[Columns] = []

    def add(spell, close, reopen, muni=None, ar=None):
        ok = spell >= 0
        n = int(ok.sum())
        parts.append(
            {
                "spell": spell[ok].astype(np.int64),
                "close": close[ok],
                "reopen": reopen[ok],
                "muni": (np.full(n, -1, np.int16) if muni is None else muni[ok].astype(np.int16)),
                "ar": (np.full(n, -1, np.int8) if ar is None else ar[ok].astype(np.int8)),
            }
        )

    one = np.timedelta64(1, "D")
    mv = res.logs["moves"]
    f = cal.first(mv["t"])
    add(
        sp.find(mv["person"], mv["t"], T),
        f + (mv["close"].astype(np.int64) - 1),
        f + (mv["reopen"].astype(np.int64) - 1),
        muni=mv["muni"],
    )
    cl = res.logs["closures"]
    f = cal.first(cl["t"])
    add(
        sp.find(cl["person"], cl["t"], T),
        f + (cl["close"].astype(np.int64) - 1),
        f + (cl["reopen"].astype(np.int64) - 1),
    )
    mg = res.logs["match_group"]
    f = cal.first(mg["t"])
    d = f + (mg["day"].astype(np.int64) - 1)
    add(sp.find(mg["person"], mg["t"], T), d - one, d, ar=mg["ar"])

    # reforms: split wherever the benefit code rule changes inside a spell
    end_inclusive = np.where(sp.ongoing, cal.hi, sp.end_day)
    db = res.params.databrud
    by = res.population.birth_year[sp.person].astype(np.int64)
    turn30 = (by + 30 - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    for c in (
        np.full(len(sp), np.datetime64(db.uddannelseshjaelp_from, "D")),
        np.full(len(sp), np.datetime64(db.sho_from, "D")),
        turn30,
    ):
        inside = (sp.start_day < c) & (c <= end_inclusive)
        before = _kh_code(res, sp.person, sp.start_day, c - one)
        after = _kh_code(res, sp.person, sp.start_day, c)
        s = np.where(inside & (before != after), np.arange(len(sp)), -1)
        add(s, c - one, c)

    # moves known: municipality of each spell on a given day
    mv_spell = parts[0]["spell"]
    mv_reopen = parts[0]["reopen"].astype(np.int64)
    mv_muni = parts[0]["muni"]
    o = np.lexsort((mv_reopen, mv_spell))
    mkey = mv_spell[o] * BIG + mv_reopen[o]
    mmuni = mv_muni[o]

    def muni_on(spells: np.ndarray, day: np.datetime64) -> np.ndarray:
        q = spells.astype(np.int64) * BIG + day.astype(np.int64)
        i = np.searchsorted(mkey, q, side="right") - 1
        ok = (i >= 0) & (mkey[np.maximum(i, 0)] // BIG == spells)
        return np.where(ok, mmuni[np.maximum(i, 0)], sp.muni[spells])

    code = res.traits.code
    mp = res.params.municipalities
    for m_code, date in sorted(mp.conversion_dates.items()):
        c = np.datetime64(date, "D")
        cand = np.flatnonzero((sp.start_day < c) & (c <= end_inclusive))
        if len(cand) == 0:
            continue
        m_idx = int(np.flatnonzero(code == m_code)[0])
        cand = cand[muni_on(cand, c) == m_idx]
        gap = np.where(
            rng.random(len(cand)) < mp.conversion_gap_share, rng.integers(1, 6, len(cand)), 0
        )
        reopen = c + gap.astype("timedelta64[D]")
        # never re-open after the spell's end
        reopen = np.minimum(reopen, end_inclusive[cand])
        add(cand, np.full(len(cand), c - one), reopen)

    out = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    out = _sort(out, "spell", "close")
    # identical splits (two reform rules on the same day) are one split
    dup = np.zeros(len(out["spell"]), bool)
    dup[1:] = (out["spell"][1:] == out["spell"][:-1]) & (out["close"][1:] == out["close"][:-1])
    return {k: v[~dup] for k, v in out.items()}


def benefit_spells(res: SimResult, sp: KhSpells, kept: np.ndarray) -> Columns:
    """Administrative benefit cases (all benefits) as a real extract shows them."""
    cal = Calendar.of(res)
    rng = rng_for(res.seed, STREAM_EVENTS, 1)
    spl = _splits(res, sp, rng)
    S = len(sp)
    k = np.bincount(spl["spell"], minlength=S)
    nseg = k + 1
    first = np.concatenate([[0], np.cumsum(nseg)[:-1]])
    total = int(nseg.sum())
    seg_spell = np.repeat(np.arange(S), nseg)
    is_first = np.zeros(total, bool)
    is_first[first] = True
    is_last = np.zeros(total, bool)
    is_last[first + nseg - 1] = True
    start = np.empty(total, "datetime64[D]")
    end = np.empty(total, "datetime64[D]")
    muni = np.empty(total, np.int16)
    ar = np.empty(total, np.int8)
    start[first] = sp.start_day
    muni[first] = sp.muni
    ar[first] = sp.ar.astype(np.int8)
    rest = np.flatnonzero(~is_first)  # in spell order, aligned with the sorted splits
    start[rest] = spl["reopen"]
    muni[rest] = spl["muni"]
    ar[rest] = spl["ar"]
    not_last = np.flatnonzero(~is_last)
    end[not_last] = spl["close"]
    end[first + nseg - 1] = np.where(sp.ongoing, NAT, sp.end_day)
    muni = _ffill_groups(muni)
    ar = _ffill_groups(ar)
    person = sp.person[seg_spell]
    code = _kh_code(res, person, sp.start_day[seg_spell], start)
    kh_cols = {
        "person": person,
        "benefit_code": code,
        "start_date": start,
        "end_date": end,
        "muni": muni,
        "match_group": ar,
    }

    # other benefits: one record per episode (fleksjob sometimes starts on ledighedsydelse)
    ep = res.logs["episodes"]
    sel = np.isin(ep["state"], (FP, RF, FJ, EDU, OB, DEAD))
    person, state = ep["person"][sel], ep["state"][sel]
    st, en, nxt, emuni = ep["start"][sel], ep["end"][sel], ep["next"][sel], ep["muni"][sel]
    n = len(person)
    u = rng.random(n)
    year = res.params.time.start_year + st.astype(np.int64) // 12
    ob_code = np.where(u < 0.45, 111, np.where((u < 0.6) & (year >= 2013), 760, 890))
    dead_code = np.where(
        rng.random(n) < np.where(res.population.origin[person] == 0, 0.15, 0.5), 999, 998
    )
    code = np.select(
        [state == FP, state == RF, state == FJ, state == EDU, state == OB, state == DEAD],
        [621, 764, 771, 651, ob_code, dead_code],
    ).astype(np.int16)
    open_end = (nxt == ONGOING) | (state == DEAD)
    o_start = cal.first(st)
    o_end = np.where(open_end, NAT, cal.last(en))
    # ledighedsydelse before the first fleksjob: split 30 % of fleksjob episodes of >= 2 months
    lengths = en.astype(np.int64) - st + 1
    fj_split = (state == FJ) & (lengths >= 2) & (rng.random(n) < 0.3)
    m783 = np.minimum(rng.integers(1, 7, n), lengths - 1)
    cut = cal.last(st.astype(np.int64) + m783 - 1)
    idx = np.flatnonzero(fj_split)
    other = {
        "person": np.concatenate([person, person[idx]]),
        "benefit_code": np.concatenate(
            [np.where(fj_split, 783, code), np.full(len(idx), 771)]
        ).astype(np.int16),
        "start_date": np.concatenate([o_start, cut[idx] + np.timedelta64(1, "D")]),
        "end_date": np.concatenate([np.where(fj_split, cut, o_end), o_end[idx]]),
        "muni": np.concatenate([emuni, emuni[idx]]),
        "match_group": np.full(n + len(idx), -1, np.int8),
    }
    cols = {k: np.concatenate([kh_cols[k], other[k]]) for k in kh_cols}
    cols = _clip_window(cols, cal, "start_date", "end_date")
    cols = {k: v[keep_mask(res, kept)[cols["person"]]] for k, v in cols.items()}
    cols = _sort_person_day(cols, "start_date")  # a person's cases never start on the same day
    cols["municipality_id"] = res.traits.code[cols.pop("muni")]
    return cols


# ---------------------------------------------------------------------------------------------
# caseworker_assignments
# ---------------------------------------------------------------------------------------------
def caseworker_ids(res: SimResult) -> np.ndarray:
    """Case-worker id strings by case-worker index: K<municipality>-<serial>."""
    m = res.caseworker_muni.astype(np.int64)
    order = np.argsort(m, kind="stable")
    serial = np.empty(len(m), np.int64)
    first = np.searchsorted(m[order], np.arange(len(res.traits.code)))
    serial[order] = np.arange(len(m)) - first[m[order]] + 1
    codes = res.traits.code[m]
    return np.array([f"K{c}-{s:05d}" for c, s in zip(codes, serial, strict=True)], dtype=object)


def caseworker_assignments(res: SimResult, sp: KhSpells, kept: np.ndarray) -> Columns:
    """One row per case worker holding a person's KH case; changes inside spells only."""
    cal = Calendar.of(res)
    ch = res.logs["cw_changes"]
    s = sp.find(ch["person"], ch["t"], res.n_months)
    ok = s >= 0
    spell = np.concatenate([np.arange(len(sp)), s[ok]])
    date = np.concatenate(
        [sp.start_day, cal.first(ch["t"][ok]) + (ch["day"][ok].astype(np.int64) - 1)]
    )
    cw = np.concatenate([sp.cw, ch["cw"][ok]]).astype(np.int64)
    order = np.lexsort((date, spell))
    spell, date, cw = spell[order], date[order], cw[order]
    same_next = np.zeros(len(spell), bool)
    same_next[:-1] = spell[1:] == spell[:-1]
    end = np.empty(len(spell), "datetime64[D]")
    end[:-1] = date[1:] - np.timedelta64(1, "D")
    spell_end = np.where(sp.ongoing[spell], NAT, sp.end_day[spell])
    end = np.where(same_next, end, spell_end)
    cols = {
        "person": sp.person[spell],
        "cw": cw,
        "start_date": date,
        "end_date": end,
        "first_of_spell": np.r_[True, ~same_next[:-1]],
    }
    cols = _clip_window(cols, cal, "start_date", "end_date")
    cols = {k: v[keep_mask(res, kept)[cols["person"]]] for k, v in cols.items()}
    cols["municipality_id"] = res.traits.code[res.caseworker_muni[cols["cw"]]]
    return _sort_person_day(cols, "start_date")


# ---------------------------------------------------------------------------------------------
# conversations, offers, exemptions, paid hours
# ---------------------------------------------------------------------------------------------
def conversations(
    res: SimResult, kept: np.ndarray, block: tuple[int, int] | None = None, k: int = 0
) -> Columns:
    """Conversations of the persons in ``block`` (person-index range; default all)."""
    cal = Calendar.of(res)
    rng = rng_for(res.seed, STREAM_EVENTS, 2, k)
    cv = res.logs["conversations"]
    lo, hi = block or (0, res.population.n)
    pr = cv["person"]
    sel = (cv["t"] >= cal.t_lo) & (pr >= lo) & (pr < hi)
    sel &= keep_mask(res, kept)[pr]
    cv = {key: v[sel] for key, v in cv.items()}
    nj = cv["n_job"].astype(np.int64)
    no = cv["n_other"].astype(np.int64)
    n = nj + no
    row = np.repeat(np.arange(len(n)), n)
    within = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    is_job = within < nj[row]
    t = cv["t"][row].astype(np.int64)
    dim = cal.days_in(t)
    # distinct days within a person-month: the month is cut into n strata, one conversation in
    # each stratum, strata assigned in random order (no two conversations on the same day)
    key = row.astype(np.float64) + rng.random(len(row))
    order = np.argsort(key, kind="stable")
    stratum = np.empty(len(row), np.int64)
    stratum[order] = within  # rank of the random key within its person-month
    nn = n[row]
    lo_d = (stratum * dim) // nn  # integer strata [lo_d, hi_d): disjoint and non-empty
    hi_d = ((stratum + 1) * dim) // nn
    day = 1 + lo_d + np.floor(rng.random(len(row)) * (hi_d - lo_d)).astype(np.int64)
    chd = cv["change_day"][row].astype(np.int64)
    before = (chd > 0) & (day < chd)
    cw = np.where(before, cv["cw_old"][row], cv["cw_new"][row]).astype(np.int64)
    muni = np.where(before, cv["muni_old"][row], cv["muni_new"][row])
    missing = rng.random(len(row)) < res.params.conversations.caseworker_missing
    cols = {
        "person": cv["person"][row],
        "conversation_date": cal.first(t) + (day - 1),
        "conversation_type": np.where(is_job, 0, 1).astype(np.int8),  # 0 job, 1 other
        "municipality_id": res.traits.code[muni],
        "cw": np.where(missing, -1, cw),
    }
    return _sort_person_day(cols, "conversation_date", "conversation_type")


def activation_offers(res: SimResult, kept: np.ndarray) -> Columns:
    cal = Calendar.of(res)
    of = res.logs["offers"]
    ongoing = of["outcome"] == OUT_ONGOING
    start = cal.first(of["start"]) + (of["start_day"].astype(np.int64) - 1)
    end = np.where(ongoing, NAT, cal.first(of["end"]) + (of["end_day"].astype(np.int64) - 1))
    cols = {
        "person": of["person"],
        "offer_type": of["type"].astype(np.int8),
        "start_date": start,
        "end_date": end,
        "outcome": of["outcome"].astype(np.int8),
    }
    cols = _clip_window(cols, cal, "start_date", "end_date")
    cols = {k: v[keep_mask(res, kept)[cols["person"]]] for k, v in cols.items()}
    return _sort_person_day(cols, "start_date", "offer_type")


def exemptions(res: SimResult, kept: np.ndarray) -> Columns:
    cal = Calendar.of(res)
    ex = res.logs["exemptions"]
    cols = {
        "person": ex["person"],
        "start_date": cal.first(ex["start"]),
        "end_date": np.where(ex["open"], NAT, cal.last(ex["end"])),
        "reason": ex["reason"].astype(np.int8),
    }
    cols = _clip_window(cols, cal, "start_date", "end_date")
    cols = {k: v[keep_mask(res, kept)[cols["person"]]] for k, v in cols.items()}
    return _sort_person_day(cols, "start_date", "reason")


def _expand_months(
    person: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lens = (end.astype(np.int64) - start + 1).clip(min=0)
    row = np.repeat(np.arange(len(person)), lens)
    t = np.repeat(start.astype(np.int64), lens) + (
        np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    )
    return person[row], t, row


def monthly_paid_hours(
    res: SimResult,
    kept: np.ndarray,
    benefit: Columns,
    block: tuple[int, int] | None = None,
    k: int = 0,
) -> Columns:
    """Paid hours: løntimer on kh (few hours), jobs (>= 80 h), fleksjob (771), side jobs in edu."""
    cal = Calendar.of(res)
    rng = rng_for(res.seed, STREAM_EVENTS, 3, k)
    ph = res.params.paid_hours
    wage = rng_for(res.seed, STREAM_EVENTS, 4).uniform(*ph.wage_dkk, res.population.n)  # DKK/hour
    lo, hi = block or (0, res.population.n)
    keep = keep_mask(res, kept)
    t_lo = cal.t_lo

    def inblock(person: np.ndarray) -> np.ndarray:
        return (person >= lo) & (person < hi) & keep[person]

    parts = []
    lt = res.logs["loentimer"]
    sel = inblock(lt["person"]) & (lt["t"] >= t_lo)
    parts.append(
        (lt["person"][sel], lt["t"][sel].astype(np.int64), rng.uniform(*ph.hours, int(sel.sum())))
    )
    ep = res.logs["episodes"]
    sel = (ep["state"] == JOB) & inblock(ep["person"]) & (ep["end"] >= t_lo)
    p, t, _ = _expand_months(ep["person"][sel], np.maximum(ep["start"][sel], t_lo), ep["end"][sel])
    part_time = rng.random(len(p)) < ph.job_part_time_share
    hours = np.where(
        part_time,
        rng.uniform(*ph.job_hours_part_time, len(p)),
        rng.uniform(*ph.job_hours_full_time, len(p)),
    )
    parts.append((p, t, hours))
    sel = (ep["state"] == EDU) & inblock(ep["person"]) & (ep["end"] >= t_lo)
    side = rng.random(int(sel.sum())) < ph.edu_side_job_share
    p, t, _ = _expand_months(
        ep["person"][sel][side], np.maximum(ep["start"][sel][side], t_lo), ep["end"][sel][side]
    )
    parts.append((p, t, rng.uniform(*ph.edu_hours, len(p))))
    # fleksjob months (code 771 records), from the written benefit records
    fj = (benefit["benefit_code"] == 771) & inblock(benefit["person"])
    start_t = _month_index(cal, benefit["start_date"][fj])
    end_day = np.where(np.isnat(benefit["end_date"][fj]), cal.hi, benefit["end_date"][fj])
    p, t, _ = _expand_months(benefit["person"][fj], start_t, _month_index(cal, end_day))
    parts.append((p, t, rng.uniform(*ph.fj_hours, len(p))))
    person = np.concatenate([x[0] for x in parts]).astype(np.int32)
    t = np.concatenate([x[1] for x in parts])
    hours = np.round(np.concatenate([x[2] for x in parts]), 1)
    ok = t < res.n_months
    person, t, hours = person[ok], t[ok], hours[ok]
    order = np.argsort((person.astype(np.int64) << 16) + t, kind="stable")
    person, t, hours = person[order], t[order], hours[order]
    earnings = np.round(hours * wage[person], 0)
    return {"person": person, "month": cal.first(t), "paid_hours": hours, "earnings_dkk": earnings}


def _month_index(cal: Calendar, d: np.ndarray) -> np.ndarray:
    m = d.astype("datetime64[M]").astype(np.int64) - (cal.start_year - 1970) * 12
    return m


def persons(res: SimResult, kept: np.ndarray) -> Columns:
    pop = res.population
    ep = res.logs["episodes"]
    order = np.lexsort((ep["end"], ep["person"]))
    last = np.searchsorted(ep["person"][order], kept, side="right") - 1
    final_muni = ep["muni"][order][last]
    return {
        "person": kept,
        "birth_year": pop.birth_year[kept].astype(np.int64),
        "sex": pop.female[kept],
        "origin": pop.origin[kept],
        "menapt": pop.menapt[kept],
        "education": pop.education[kept],
        "psychiatric_diagnosis": pop.psych[kept],
        "substance_abuse_treatment": pop.substance[kept],
        "has_children": pop.has_children[kept],
        "children_placed": pop.children_placed[kept],
        "municipality_id": res.traits.code[final_muni],
    }


BLOCKED_TABLES = ("monthly_paid_hours", "conversations")
"""Tables built in person blocks (large); the others are built whole."""


def build_table(
    name: str, res: SimResult, sp: KhSpells, kept: np.ndarray, benefit: Columns | None = None
) -> Columns | list[Columns]:
    """One register table as column arrays (a list of blocks for :data:`BLOCKED_TABLES`)."""
    if name == "persons":
        return persons(res, kept)
    if name == "benefit_spells":
        return benefit_spells(res, sp, kept)
    if name == "caseworker_assignments":
        return caseworker_assignments(res, sp, kept)
    if name == "activation_offers":
        return activation_offers(res, kept)
    if name == "exemptions":
        return exemptions(res, kept)
    blocks = person_blocks(kept)
    if name == "conversations":
        return [conversations(res, kept, b, k) for k, b in enumerate(blocks)]
    if name == "monthly_paid_hours":
        if benefit is None:
            raise ValueError("monthly_paid_hours needs the benefit_spells columns")
        return [monthly_paid_hours(res, kept, benefit, b, k) for k, b in enumerate(blocks)]
    raise KeyError(name)


def iter_blocks(name: str, res: SimResult, kept: np.ndarray, benefit: Columns | None = None):
    """Yield the blocks of a blocked table one at a time (bounded memory)."""
    for k, b in enumerate(person_blocks(kept)):
        if name == "conversations":
            yield conversations(res, kept, b, k)
        else:
            yield monthly_paid_hours(res, kept, benefit, b, k)


__all__ = ["LEFT", "Calendar", "KhSpells", "build_table", "iter_blocks", "kh_spells"]
