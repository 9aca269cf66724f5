"""Harrell's concordance of a Cox model and its infinitesimal-jackknife variance, as R
``survival::concordance(fit)`` (survival 3.5-3, ``timewt="n"``) -- in O(n log n) numpy.

Conventions (R's ``concordance.coxph``, i.e. ``reverse=TRUE``): an event row ``j`` at time
``t_j`` is compared with every row ``i`` of the same stratum still at risk after ``t_j``: rows
whose interval ends later, or at ``t_j`` without an event (censored rows tied with an event are
at risk), and that entered before ``t_j`` (``start_i < t_j``). Rows with an event at the same
time are "tied on time" and not compared. The pair is concordant when the event row has the
larger risk score ``x'beta``, discordant when smaller, tied on x when equal; each pair counts
``w_i w_j``. ``C = (concordant + tied_x / 2) / (concordant + discordant + tied_x)``.

Variance: R's infinitesimal jackknife. With per-row influence counts ``I_c, I_d, I_t`` (the
weight of the pairs the row takes part in, as event or as comparator, by the other row's
weight), ``somers = (C - D) / N`` and ``N = C + D + T``, the row's influence on Somers' d is
``w_i ((I_c - I_d) - somers (I_c + I_d + I_t)) / N``; the influences are summed within clusters,
``var(somers) = sum dfbeta^2`` and ``var(C) = var(somers) / 4``.

The pair counts reduce to weighted 2-d dominance sums ``sum_p w_p [key_p > key_q][v_p > v_q]``
over "points" ``p`` and "queries" ``q`` (key = time order, value = rank of the risk score),
computed offline by a wavelet-tree pass over the bits of the value ranks
(:func:`dominance_sums`): ``O(n log n)`` work in ``log2(n)`` vectorised passes, no Python loop
over rows or event times (R uses a balanced binary tree in C; same counts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def dominance_sums(
    q_key: np.ndarray, q_val: np.ndarray, p_key: np.ndarray, p_val: np.ndarray, p_w: np.ndarray
) -> np.ndarray:
    """For each query ``q``: ``sum_p p_w[p] * [p_key > q_key] * [p_val > q_val]``.

    Keys and values are integers; ties in a key or a value never count. Points and queries
    are put in descending key order (queries first among equal keys), then the values are
    split bit by bit from the most significant (a wavelet-tree pass): at each bit, a query whose
    bit is 0 collects the weight of the earlier points of its prefix group whose bit is 1; the
    group is then stably partitioned by the bit. ``O((n + m) log V)`` with ``V`` the range of
    the values (pass ranks), each pass a few vectorised O(n) operations.
    """
    nq, npt = q_key.shape[0], p_key.shape[0]
    if nq == 0 or npt == 0:
        return np.zeros(nq)
    key = np.concatenate([p_key, q_key]).astype(np.int64)
    val = np.concatenate([p_val, q_val]).astype(np.int64)
    val -= val.min()  # non-negative integers (ranks: no sort needed)
    is_q = np.concatenate([np.zeros(npt, bool), np.ones(nq, bool)])
    order = np.lexsort((~is_q, -key))
    val = val[order]
    w = np.concatenate([np.asarray(p_w, float), np.zeros(nq)])[order]
    is_q = is_q[order]
    n = val.shape[0]
    vbits = max(int(val.max()).bit_length(), 1)
    # kept in the current slot order: value and position in ``order`` packed in one integer,
    # the point weight (0 marks a query) and the query's accumulated sum
    packed = (val << 40) | np.arange(n, dtype=np.int64)
    acc = np.zeros(n)
    slots = np.arange(n, dtype=np.int64)
    for b in range(vbits - 1, -1, -1):
        prefix = packed >> (41 + b)  # non-decreasing over the slots: groups are contiguous
        change = np.flatnonzero(prefix[1:] != prefix[:-1]) + 1
        bounds = np.concatenate([[0], change, [n]])
        sizes = np.diff(bounds)
        gstart = np.repeat(bounds[:-1], sizes)
        gend = np.repeat(bounds[1:], sizes)
        bit = (packed >> (40 + b)) & 1
        c1 = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(bit, out=c1[1:])
        w1 = np.zeros(n + 1)
        np.cumsum(w * bit, out=w1[1:])
        take = np.flatnonzero((w == 0) & (bit == 0))
        acc[take] += w1[take] - w1[gstart[take]]
        n1_before = c1[:-1] - c1[gstart]
        n0_group = (gend - gstart) - (c1[gend] - c1[gstart])
        new_slot = np.where(bit == 0, slots - n1_before, gstart + n0_group + n1_before)
        packed, w, acc = (_scatter(a, new_slot) for a in (packed, w, acc))
    out = np.empty(n)
    out[packed & ((1 << 40) - 1)] = acc
    res = np.empty(nq)
    q_positions = np.flatnonzero(is_q)
    res[order[q_positions] - npt] = out[q_positions]
    return res


def _scatter(values: np.ndarray, slots: np.ndarray) -> np.ndarray:
    out = np.empty_like(values)
    out[slots] = values
    return out


def _key_sums(q_key: np.ndarray, p_key: np.ndarray, p_w: np.ndarray) -> np.ndarray:
    """``sum_p p_w[p] [p_key > q_key]`` for each query (one sort)."""
    o = np.argsort(p_key, kind="stable")
    ks, cw = p_key[o], np.concatenate([[0.0], np.cumsum(p_w[o])])
    return cw[-1] - cw[np.searchsorted(ks, q_key, side="right")]


def _three_way(q_key, q_val, p_key, p_val, p_w):
    """Weights of points with a larger key and a larger / smaller / equal value, per query."""
    m = q_key.shape[0]
    both = dominance_sums(  # "> v" and ">= v" (= "> v - 1": values are integers) in one pass
        np.concatenate([q_key, q_key]), np.concatenate([q_val, q_val - 1]), p_key, p_val, p_w
    )
    greater, geq = both[:m], both[m:]
    total = _key_sums(q_key, p_key, p_w)
    return greater, total - geq, geq - greater


@dataclass(frozen=True)
class ConcordanceCounts:
    """Weighted pair counts and per-row influence counts of one stratum or of all strata."""

    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float
    influence: np.ndarray  # n x 3: concordant, discordant, tied_x pairs each row takes part in


def concordance_counts(
    score: np.ndarray,
    stop: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    start: np.ndarray | None = None,
) -> ConcordanceCounts:
    """Pair counts of one stratum in R's ``concordance.coxph`` orientation (see module doc)."""
    n = score.shape[0]
    xr = np.unique(score, return_inverse=True)[1].astype(np.int64)
    times = np.unique(stop if start is None else np.concatenate([stop, start]))
    tr = np.searchsorted(times, stop).astype(np.int64)
    # stop key: events 2r, censored rows 2r+1 -> comparators of event j have key > 2 r_j
    skey = 2 * tr + np.where(event, 0, 1)
    ev = np.flatnonzero(event)
    w = np.asarray(weights, float)
    infl = np.zeros((n, 3))
    if ev.size == 0:
        return ConcordanceCounts(0.0, 0.0, 0.0, 0.0, 0.0, infl)
    # (1) each event as the "event" member: comparators with larger stop key
    if start is None:
        gt, lt, eq = _three_way(skey[ev], xr[ev], skey, xr, w)
    else:
        # minus comparators not yet entered: start_i >= t_j, i.e. 2 rank(start_i) + 1 > key_j
        # (their stop key is then larger too): one pass with a negative copy of every row
        st_key = 2 * np.searchsorted(times, start).astype(np.int64)  # 2 * rank(start)
        gt, lt, eq = _three_way(
            skey[ev], xr[ev], np.r_[skey, st_key + 1], np.r_[xr, xr], np.r_[w, -w]
        )
    conc_j, disc_j, tie_j = lt, gt, eq  # event has the larger score -> concordant
    infl[ev, 0] += conc_j
    infl[ev, 1] += disc_j
    infl[ev, 2] += tie_j
    # (2) each row as the comparator: events with a smaller stop key (sign flipped keys)
    g, lo, e = _three_way(-skey, xr, -skey[ev], xr[ev], w[ev])
    if start is not None:
        # minus events at or before the row's entry: t_j <= start_i
        g2, l2, e2 = _three_way(-st_key - 1, xr, -skey[ev], xr[ev], w[ev])
        g, lo, e = g - g2, lo - l2, e - e2
    infl[:, 0] += g  # event's score larger than the comparator's
    infl[:, 1] += lo
    infl[:, 2] += e
    wd = w[ev]
    # tied on time: pairs of events at the same time (tied.y, incl. tied on x too, as R's total)
    _, inv = np.unique(tr[ev], return_inverse=True)
    sw = np.bincount(inv, wd)
    sw2 = np.bincount(inv, wd**2)
    _, inv_xy = np.unique(tr[ev] * (xr.max() + 1) + xr[ev], return_inverse=True)
    sxy, sxy2 = np.bincount(inv_xy, wd), np.bincount(inv_xy, wd**2)
    tied_xy = float(np.sum((sxy**2 - sxy2) / 2))
    tied_y = float(np.sum((sw**2 - sw2) / 2)) - tied_xy
    return ConcordanceCounts(
        float(wd @ conc_j), float(wd @ disc_j), float(wd @ tie_j), tied_y, tied_xy, infl
    )


@dataclass(frozen=True)
class Concordance:
    """Harrell's C of a fitted model (R ``concordance(fit)``).

    Attributes
    ----------
    estimate
        Concordance ``(concordant + tied_x / 2) / (concordant + discordant + tied_x)``.
    std_error
        Infinitesimal-jackknife standard error (clustered if the model has ``cluster``).
    concordant, discordant, tied_x, tied_y, tied_xy
        Weighted pair counts, summed over strata (R's ``count``).
    """

    estimate: float
    std_error: float
    concordant: float
    discordant: float
    tied_x: float
    tied_y: float
    tied_xy: float


def concordance(
    score: np.ndarray,
    stop: np.ndarray,
    event: np.ndarray,
    weights: np.ndarray,
    start: np.ndarray | None = None,
    strata: np.ndarray | None = None,
    cluster: np.ndarray | None = None,
) -> Concordance:
    """Concordance of risk scores with (start, stop] survival data, pairs within strata."""
    n = score.shape[0]
    strata = np.zeros(n, np.int64) if strata is None else strata
    infl = np.zeros((n, 3))
    tot = np.zeros(5)
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        c = concordance_counts(
            score[rows],
            stop[rows],
            event[rows],
            weights[rows],
            None if start is None else start[rows],
        )
        infl[rows] = c.influence
        tot += [c.concordant, c.discordant, c.tied_x, c.tied_y, c.tied_xy]
    npair = tot[:3].sum()
    somers = (tot[0] - tot[1]) / npair
    dfbeta = weights * ((infl[:, 0] - infl[:, 1]) - somers * infl.sum(axis=1)) / npair
    if cluster is not None:
        dfbeta = np.bincount(cluster, dfbeta)
    return Concordance(
        float((somers + 1) / 2), float(np.sqrt(np.sum(dfbeta**2) / 4)), *map(float, tot)
    )
