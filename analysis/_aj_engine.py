"""Aalen-Johansen engine shared by :mod:`analysis.survival` and :mod:`analysis.multistate`.

Computes state-occupation probabilities ``p(t) = p0 prod_{s <= t} H(s)`` for counting-process data
(one row per person and sojourn ``(entry, exit]`` in one state) and their infinitesimal-jackknife
(IJ) standard errors exactly as R ``survival::survfit`` does for multi-state data (survival 3.5,
``survfitCI``/``survfitci.c``): per-person influence ``U_i(t) = dp(t)/dw_i`` follows

    U_i(t) = U_i(t-) H(t) + [i at risk in state a at t] * p_a(t-) / n_a(t) * (e_b - H_a(t)),

(``b`` the state the person is in just after ``t``), and ``Var p_j(t) = sum_i w_i^2 U_ij(t)^2`` with
``w_i`` the weight of the person's current (latest entered) row.

Why an own engine: R evaluates that recursion for every person at every event time, which costs
O(persons x event times x states^2). Here each person is represented between the times at which
their status changes (row entry, row exit) by an anchored row vector, so that

    U_i(t) = Y_i P(s_i, t) + R_a(t)   while the person is at risk in state a,
    U_i(t) = Y_i P(s_i, t)            otherwise,

with ``P(s, t)`` the Aalen-Johansen transition matrix and ``R_a(t) = sum_{r <= t} c_a(r) P(r, t)``
the influence shared by everybody at risk in state ``a``. The sum of squares over persons is then
carried by three small recursions over event times (an S x S matrix ``G``, an S x S matrix ``L`` and
an S-vector ``W``), and each person's vector is moved from one status change to the next with
binary-lifting tables of products of ``H`` (O(log K) small matrix products per row). Total cost:
O(rows x log K x S^2 + K x S^3), no per-row Python loop; the only Python loop is over the K event
times with S x S matrix products.

Ties: every transition at the same time is processed together (no jitter). A row whose ``to`` state
equals its ``from`` state is not a transition (as in R). Rows entering at time ``t`` are at risk
only after ``t``; rows leaving at ``t`` are at risk at ``t``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Largest binary-lifting table kept in memory (bytes); beyond this tables are rebuilt on demand.
_TABLE_BUDGET_BYTES = 400 * 2**20


@dataclass(frozen=True)
class EngineOutput:
    """Raw arrays of one Aalen-Johansen fit (one curve / group).

    Attributes
    ----------
    times
        Distinct transition times, shape (K,), increasing.
    pstate
        State-occupation probabilities just after each time, shape (K, S).
    std_error
        IJ standard errors of ``pstate`` (probability scale), shape (K, S); ``None`` if not computed.
    n_risk
        Number of rows (persons) at risk in each state at each time, shape (K, S).
    weighted_n_risk
        Sum of weights at risk in each state, shape (K, S).
    n_transition
        Number of transitions ``from -> to`` at each time, shape (K, S, S) (diagonal zero).
    weighted_n_transition
        Weighted version of ``n_transition``.
    hazard_matrices
        ``H(t)`` at each time, shape (K, S, S) (rows sum to one).
    p0
        Initial distribution (before the first transition), shape (S,).
    p0_std_error
        Standard error of ``p0`` (non-zero only with ``p0_variance``), shape (S,).
    """

    times: np.ndarray
    pstate: np.ndarray
    std_error: np.ndarray | None
    n_risk: np.ndarray
    weighted_n_risk: np.ndarray
    n_transition: np.ndarray
    weighted_n_transition: np.ndarray
    hazard_matrices: np.ndarray
    p0: np.ndarray
    p0_std_error: np.ndarray


class _Propagator:
    """Multiply row vectors by ``P(g0, g1) = H[g0] @ H[g0+1] @ ... @ H[g1-1]`` (binary lifting)."""

    def __init__(self, hazard: np.ndarray) -> None:
        self._levels: list[np.ndarray] = [hazard]
        k, s, _ = hazard.shape
        n_levels = max(1, int(np.ceil(np.log2(max(k, 1)))) + 1)
        self._keep = n_levels * k * s * s * 8 <= _TABLE_BUDGET_BYTES

    def _level(self, level: int) -> np.ndarray:
        while len(self._levels) <= level:
            prev = self._levels[-1]
            half = 1 << (len(self._levels) - 1)
            self._levels.append(np.matmul(prev[:-half], prev[half:]))
        return self._levels[level]

    def apply(self, vectors: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
        """Return ``vectors[i] @ P(start[i], stop[i])`` for each row ``i`` (``start <= stop``)."""
        out = np.array(vectors, dtype=float, copy=True)
        steps = stop - start
        if out.shape[0] == 0 or steps.max(initial=0) == 0:
            return out
        pos = start.astype(np.int64).copy()
        level = 0
        # ascending jump sizes: any order of the binary decomposition gives the same product
        while (steps >> level).any():
            rows = np.flatnonzero((steps >> level) & 1)
            if rows.size:
                table = self._level(level)
                out[rows] = np.einsum("ms,mst->mt", out[rows], table[pos[rows]])
                pos[rows] += 1 << level
            level += 1
        if not self._keep:
            del self._levels[1:]
        return out


def _accumulate_outer(
    out: np.ndarray, index: np.ndarray, vectors: np.ndarray, coef: np.ndarray
) -> None:
    """Add ``coef_i * outer(v_i, v_i)`` into ``out[index_i]`` (``out`` has shape (size, S, S))."""
    size, s, _ = out.shape
    for a in range(s):
        va = coef * vectors[:, a]
        for b in range(a, s):
            col = np.bincount(index, weights=va * vectors[:, b], minlength=size)
            out[:, a, b] += col
            if b != a:
                out[:, b, a] += col


def _accumulate_vec(
    out: np.ndarray, index: np.ndarray, state: np.ndarray, vectors: np.ndarray, coef: np.ndarray
) -> None:
    """Add ``coef_i * v_i`` into row ``state_i`` of ``out[index_i]`` (shape (size, S, S))."""
    size, s, _ = out.shape
    flat = index * s + state
    for b in range(s):
        out[:, :, b] += np.bincount(flat, weights=coef * vectors[:, b], minlength=size * s).reshape(
            size, s
        )


def aalen_johansen(
    entry: np.ndarray,
    exit: np.ndarray,
    from_state: np.ndarray,
    to_state: np.ndarray,
    weight: np.ndarray,
    person: np.ndarray,
    n_states: int,
    p0: np.ndarray | None = None,
    p0_variance: bool = False,
    se: bool = True,
    presorted: bool = False,
) -> EngineOutput:
    """Aalen-Johansen state occupation with R-``survfit`` IJ standard errors.

    Parameters
    ----------
    entry, exit
        Row interval ``(entry, exit]`` (same time unit), ``entry < exit``; ``-inf`` entry allowed.
    from_state
        State index (0..S-1) occupied during the row.
    to_state
        State index entered at ``exit``, or ``-1`` for censored / no transition.
    weight
        Positive case weights, one per row.
    person
        Integer person code per row; a person's rows must not overlap and must chain
        (``from_state`` of a row equals the state after the previous row). Checked by the caller.
    n_states
        Number of states S.
    p0
        Initial distribution; by default the weighted distribution of ``from_state`` among rows at
        risk at the first transition time (R's default).
    p0_variance
        Include the variability of the estimated ``p0`` in the standard errors (R's
        ``influence=TRUE`` behaviour; R's default std.err leaves it out).
    se
        Compute standard errors.
    presorted
        Rows are already sorted by person and, within person, by entry time (saves a sort).
    """
    s = n_states
    n = entry.shape[0]
    moves = (to_state >= 0) & (to_state != from_state)
    times = np.unique(exit[moves])
    k = times.shape[0]
    # grid index: number of transition times <= value; row at risk at grid j iff k_e < j <= k_x
    k_e = np.searchsorted(times, entry, side="right")
    k_x = np.searchsorted(times, exit, side="right")

    # at risk at grid j (1..K): rows with k_x >= j minus rows with k_e >= j, as sums from the end
    # (like R, so that late, small risk sets carry no rounding error from the early, large ones)
    size = k + 1

    def _from_end(idx: np.ndarray, w: np.ndarray | None) -> np.ndarray:
        lin = from_state * size + idx
        counts = np.bincount(lin, weights=w, minlength=s * size).reshape(s, size)
        return counts[:, ::-1].cumsum(axis=1)[:, ::-1][:, 1:].T  # (K, S): sum over idx >= j

    nrisk_w = _from_end(k_x, weight) - _from_end(k_e, weight)
    nrisk = (_from_end(k_x, None) - _from_end(k_e, None)).round().astype(np.int64)
    nrisk_w = np.where(nrisk > 0, nrisk_w, 0.0)  # exact zeros where nobody is at risk

    ev = np.flatnonzero(moves)
    lin_ev = (k_x[ev] - 1) * s * s + from_state[ev] * s + to_state[ev]
    dtrans_w = np.bincount(lin_ev, weights=weight[ev], minlength=k * s * s).reshape(k, s, s)
    dtrans = np.bincount(lin_ev, minlength=k * s * s).reshape(k, s, s)

    # everybody at risk in a state leaves it: use the exact sum of their weights as n_a
    n_leave = dtrans.sum(axis=2)
    nrisk_w = np.where((n_leave == nrisk) & (nrisk > 0), dtrans_w.sum(axis=2), nrisk_w)
    # hazard matrices H(t): row a = (events a->b / n_a), diagonal 1 - sum
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(nrisk[:, :, None] > 0, dtrans_w / nrisk_w[:, :, None], 0.0)
    hazard = frac.copy()
    diag = np.arange(s)
    hazard[:, diag, diag] = 1.0 - frac.sum(axis=2)

    # initial distribution: rows at risk at the first transition time
    if p0 is None:
        at_zero = (k_e == 0) & (k_x >= 1) if k > 0 else np.ones(n, dtype=bool)
        wsum = weight[at_zero].sum()
        p0 = np.bincount(from_state[at_zero], weights=weight[at_zero], minlength=s) / wsum
        estimated_p0 = True
    else:
        p0 = np.asarray(p0, dtype=float)
        estimated_p0 = False
        at_zero = np.zeros(n, dtype=bool)
        wsum = 1.0

    # p(t) and the shared influence R_a(t) (rows a) over event times
    pstate = np.empty((k, s))
    shared = np.zeros((k + 1, s, s))  # R at grid 0..K
    contrib = np.zeros((s, s))
    p = p0.copy()
    eye = np.eye(s)
    for j in range(k):
        h = hazard[j]
        if se:
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(nrisk[j] > 0, p / nrisk_w[j], 0.0)
            contrib = scale[:, None] * (eye - h)
            shared[j + 1] = shared[j] @ h + contrib
        p = p @ h
        pstate[j] = p

    p0_std = np.zeros(s)
    use_i0 = estimated_p0 and p0_variance and bool(np.all(p0 < 1))
    if se and use_i0:
        # sum_i w_i^2 i0_i^2 with i0_i = (1{state_i} - p0) / sum(w) (R: sp0, unweighted sum)
        i0 = (np.eye(s)[from_state[at_zero]] - p0) / wsum
        p0_std = np.sqrt((weight[at_zero, None] ** 2 * i0**2).sum(axis=0))
    std = None
    if se and k > 0:
        std = _ij_std_error(
            s, k, entry, exit, times, k_e, k_x, from_state, to_state, moves, weight, person,
            hazard, shared, nrisk, nrisk_w, np.vstack([p0, pstate[:-1]]),
            at_zero if use_i0 else None, p0, wsum,
            presorted,
        )  # fmt: skip
    elif se:
        std = np.zeros((0, s))
    return EngineOutput(
        times=times,
        pstate=pstate,
        std_error=std,
        n_risk=nrisk.astype(np.int64),
        weighted_n_risk=nrisk_w,
        n_transition=dtrans.astype(np.int64),
        weighted_n_transition=dtrans_w,
        hazard_matrices=hazard,
        p0=p0,
        p0_std_error=p0_std,
    )


def _ij_std_error(
    s: int,
    k: int,
    entry: np.ndarray,
    exit: np.ndarray,
    times: np.ndarray,
    k_e: np.ndarray,
    k_x: np.ndarray,
    from_state: np.ndarray,
    to_state: np.ndarray,
    moves: np.ndarray,
    weight: np.ndarray,
    person: np.ndarray,
    hazard: np.ndarray,
    shared: np.ndarray,
    nrisk: np.ndarray,
    nrisk_w: np.ndarray,
    p_before: np.ndarray,
    at_zero: np.ndarray | None,
    p0: np.ndarray,
    wsum: float,
    presorted: bool,
) -> np.ndarray:
    """Infinitesimal-jackknife standard errors of p(t) at the K event times (see module doc)."""
    n = entry.shape[0]
    # Work in "rank-major" order: all first rows of persons, then all second rows, ... (persons in
    # the same order within each rank), so each round of the chain below is a contiguous slice
    # and the previous rows of a round are an increasing subset of the previous slice.
    if np.bincount(person).max() == 1:  # one row per person: no chaining
        rm = np.argsort(person)
        bounds = np.array([0, n])
        prev = np.zeros(0, dtype=np.int64)
    else:
        order = np.arange(n) if presorted else np.lexsort((exit, entry, person))
        person_sorted = person[order]
        first = np.ones(n, dtype=bool)
        first[1:] = person_sorted[1:] != person_sorted[:-1]
        starts = np.flatnonzero(first)
        rank_sorted = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
        by_rank = np.argsort(rank_sorted, kind="stable")
        rm = order[by_rank]
        pos = np.empty(n, dtype=np.int64)  # position in rank-major order of person-order row i
        pos[by_rank] = np.arange(n)
        bounds = np.searchsorted(rank_sorted[by_rank], np.arange(int(rank_sorted.max()) + 2))
        # previous row (in rank-major positions) of each row with rank > 0, in rank-major order
        later_sorted = by_rank[bounds[1] :]  # person-order indices of rows with rank > 0
        prev = pos[later_sorted - 1]
    k_e, k_x, exit = k_e[rm], k_x[rm], exit[rm]
    from_state, to_state, moves, weight = from_state[rm], to_state[rm], moves[rm], weight[rm]

    # initial influence (only with p0_variance): (1{state} - p0) / sum of weights at time zero,
    # carried by the person from the start, i.e. put on their first row
    u_start = np.zeros((bounds[1], s))
    if at_zero is not None:
        first_pos = np.full(person.max() + 1, -1, dtype=np.int64)
        first_pos[person[rm[: bounds[1]]]] = np.arange(bounds[1])
        rows = np.flatnonzero(at_zero[rm])
        u_start[first_pos[person[rm][rows]]] = (np.eye(s)[from_state[rows]] - p0) / wsum

    # own-transition term of movers at exit: p_a(t-)/n_a(t) (e_b - e_a)
    own = np.zeros((n, s))
    mv = np.flatnonzero(moves)
    g = k_x[mv] - 1
    a = from_state[mv]
    step = p_before[g, a] / nrisk_w[g, a]
    own[mv, to_state[mv]] += step
    own[mv, a] -= step

    prop = _Propagator(hazard)
    shared_flat = shared.reshape(-1, s)  # row (grid * S + state) = R_state(grid)
    u_entry = np.empty((n, s))  # influence at the row's entry grid point
    y_anchor = np.empty((n, s))  # Y = U_entry - R_a(entry)
    v_exit = np.empty((n, s))  # Y P(k_e, k_x)
    u_exit = np.empty((n, s))  # influence at exit
    for r in range(bounds.size - 1):
        lo, hi = bounds[r], bounds[r + 1]
        if r == 0:
            ue = u_start
        else:
            pr = prev[lo - bounds[1] : hi - bounds[1]]
            ue = prop.apply(u_exit[pr], k_x[pr], k_e[lo:hi])
        u_entry[lo:hi] = ue
        st = from_state[lo:hi]
        y = ue - shared_flat[k_e[lo:hi] * s + st]
        y_anchor[lo:hi] = y
        v = prop.apply(y, k_e[lo:hi], k_x[lo:hi])
        v_exit[lo:hi] = v
        u_exit[lo:hi] = v + shared_flat[k_x[lo:hi] * s + st] + own[lo:hi]

    # status changes, in two phases per grid point: "pre" (before the variance at that time: exits
    # exactly at an event time) and "post" (after it: entries, and exits between event times)
    size = 2 * (k + 1)
    exit_at_event = np.zeros(n, dtype=bool)
    has_k = k_x >= 1
    exit_at_event[has_k] = exit[has_k] == times[k_x[has_k] - 1]
    idx_entry = (k + 1) + k_e  # post phase of k_e
    idx_exit = np.where(exit_at_event, k_x, (k + 1) + k_x)
    w2 = weight * weight
    later = slice(bounds[1], n)

    d_g = np.zeros((size, s, s))
    _accumulate_outer(d_g, idx_entry, y_anchor, w2)
    _accumulate_outer(d_g, idx_exit, v_exit, -w2)
    _accumulate_outer(d_g, idx_exit, u_exit, w2)
    _accumulate_outer(d_g, idx_entry[later], u_entry[later], -w2[prev])
    d_l = np.zeros((size, s, s))
    _accumulate_vec(d_l, idx_entry, from_state, y_anchor, w2)
    _accumulate_vec(d_l, idx_exit, from_state, v_exit, -w2)
    d_w = (
        np.bincount(idx_entry * s + from_state, weights=w2, minlength=size * s)
        - np.bincount(idx_exit * s + from_state, weights=w2, minlength=size * s)
    ).reshape(size, s)

    var = np.empty((k, s))
    post = k + 1
    gmat = d_g[post].copy()
    lmat = d_l[post].copy()
    wvec = d_w[post].copy()
    for j in range(1, k + 1):
        h = hazard[j - 1]
        rr = shared[j]
        gmat = h.T @ gmat @ h + d_g[j]
        lmat = lmat @ h + d_l[j]
        wvec += d_w[j]
        var[j - 1] = np.diagonal(gmat) + 2.0 * (lmat * rr).sum(axis=0) + wvec @ (rr * rr)
        gmat += d_g[post + j]
        lmat += d_l[post + j]
        wvec += d_w[post + j]
    return np.sqrt(np.maximum(var, 0.0))


# --------------------------------------------------------------------------------------------
# Transition-probability matrix P(s, t) and its variance
# --------------------------------------------------------------------------------------------


def transition_greenwood_variance(
    hazard: np.ndarray, n_transition: np.ndarray, n_risk: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``P(s, t)`` and the Greenwood-type variance of each entry, as R ``etm`` (``cov_aj``).

    Parameters
    ----------
    hazard
        ``H(u) = I + dA(u)`` at the transition times ``s < u <= t``, shape (m, S, S).
    n_transition
        Unweighted transition counts ``a -> b`` at those times, shape (m, S, S).
    n_risk
        Unweighted numbers at risk in each state, shape (m, S).

    Returns
    -------
    ``(P, var)``, both shape (S, S): ``P = H(u_1) ... H(u_m)`` and ``Var P_ij``.

    Notes
    -----
    The rows of ``dA(u)`` are independent with the multinomial (Greenwood-type) covariance
    ``Cov(dA_a.) = [Y_a sum_b N_ab (e_b - e_a)(e_b - e_a)' - r_a r_a'] / Y_a^3``,
    ``r_a = sum_b N_ab (e_b - e_a)``, and by the delta method (Andersen et al. 1993, IV.4)
    ``Var P_ij(s, t) = sum_u sum_a P_ia(s, u-)^2 c' Cov(dA_a.(u)) c`` with ``c`` column ``j`` of
    ``P(u, t)``. This is the diagonal of etm's recursion
    ``cov(t) = (H' x I) cov(t-) (H x I) + (I x P(s, t-)) cov(dA) (I x P(s, t-)')``, evaluated
    in O(m S^3) without the S^2 x S^2 matrices; negative rounding is set to zero as in etm.
    """
    m, s, _ = hazard.shape
    eye = np.eye(s)
    if m == 0:
        return eye.copy(), np.zeros((s, s))
    before = np.empty((m, s, s))  # P(s, u-)
    after = np.empty((m, s, s))  # P(u, t)
    p = eye
    for j in range(m):
        before[j] = p
        p = p @ hazard[j]
    q = eye
    for j in range(m - 1, -1, -1):
        after[j] = q
        q = hazard[j] @ q
    counts = n_transition.astype(float).copy()
    diag = np.arange(s)
    counts[:, diag, diag] = 0.0
    n_out = counts.sum(axis=2)[:, :, None]  # (m, S, 1)
    nc = counts @ after  # sum_b N_ab c_b, for every column c of P(u, t)
    nc2 = counts @ (after * after)
    lin = nc - n_out * after
    quad = nc2 - 2.0 * after * nc + n_out * after * after
    y = n_risk.astype(float)[:, :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        form = np.where(y > 0, (y * quad - lin * lin) / y**3, 0.0)  # c' Cov(dA_a.) c
    var = np.einsum("uia,uaj->ij", before * before, form)
    return p, np.maximum(var, 0.0)


def _products_around(hazard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``before[u] = H[0] ... H[u-1]`` and ``after[u] = H[u+1] ... H[m-1]`` (shapes (m, S, S))."""
    m, s, _ = hazard.shape
    before = np.empty((m, s, s))
    after = np.empty((m, s, s))
    p = np.eye(s)
    for j in range(m):
        before[j] = p
        p = p @ hazard[j]
    q = np.eye(s)
    for j in range(m - 1, -1, -1):
        after[j] = q
        q = hazard[j] @ q
    return before, after


def transition_ij_std_error(
    entry: np.ndarray,
    exit: np.ndarray,
    from_state: np.ndarray,
    to_state: np.ndarray,
    weight: np.ndarray,
    person: np.ndarray,
    n_states: int,
    s: float,
    at: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """``P(s, t)`` and its infinitesimal-jackknife standard errors at each ``t`` in ``at``.

    Row ``a`` of ``P(s, t)`` with its standard errors is R
    ``survfit(..., start.time = s, p0 = e_a)``'s ``pstate`` and ``std.err`` (IJ): the influence
    of person ``i`` (per unit weight) is

        U_i = sum_u [i at risk in c at u] P(s, u-)[:, c] / n_c(u) (P(u, t)[b, :] - P(u-, t)[c, :])

    over transition times ``s < u <= t`` (``b`` = state just after ``u``, ``n_c`` = weighted
    number at risk), i.e. the survfit recursion ``U(t) = U(t-) H(t) + ...`` for ``p0 = e_a``
    unrolled, for all ``a`` at once; ``Var P_aj = sum_i w_i^2 U_i[a, j]^2`` with ``w_i`` the
    weight of the person's latest row entered before ``t`` (as :func:`aalen_johansen`).
    Per ``t``: one pass over the m transition times with S x S products and, per state, a
    prefix sum over time gathered at the rows' entry and exit: O(m S^3 + rows S^2), no loop
    over persons. Arguments as :func:`aalen_johansen` (rows sorted by person and entry).

    Returns
    -------
    ``(P, se)``, both shape (len(at), S, S).
    """
    sn = n_states
    at = np.asarray(at, dtype=float)
    est = np.broadcast_to(np.eye(sn), (at.size, sn, sn)).copy()
    se = np.zeros((at.size, sn, sn))
    keep = exit > s
    if not (keep & (to_state >= 0) & (to_state != from_state)).any():
        return est, se
    rows = np.flatnonzero(keep)
    e, x, fr, to, w = entry[rows], exit[rows], from_state[rows], to_state[rows], weight[rows]
    pers = np.unique(person[rows], return_inverse=True)[1].astype(np.int64)
    n_pers = int(pers.max()) + 1
    fit = aalen_johansen(e, x, fr, to, w, pers, sn, p0=np.eye(sn)[0], se=False, presorted=True)
    times, hazard, y_w = fit.times, fit.hazard_matrices, fit.weighted_n_risk
    k_e = np.searchsorted(times, e, side="right")
    k_x = np.searchsorted(times, x, side="right")
    moves = (to >= 0) & (to != fr)
    for n_t, t in enumerate(at):
        m = int(np.searchsorted(times, t, side="right"))
        if m == 0:
            continue
        before, after = _products_around(hazard[:m])
        est[n_t] = before[-1] @ hazard[m - 1]
        after_minus = hazard[:m] @ after  # P(u-, t)
        with np.errstate(divide="ignore", invalid="ignore"):
            inv_y = np.where(y_w[:m] > 0, 1.0 / y_w[:m], 0.0)  # (m, S)
        infl = np.zeros((n_pers, sn, sn))
        lo, hi = np.minimum(k_e, m), np.minimum(k_x, m)
        for c in range(sn):
            sel = np.flatnonzero((fr == c) & (lo < hi))
            if sel.size == 0:
                continue
            # g_c(u)[a, j] = P_ac(s, u-) / n_c(u) (P_cj(u, t) - P_cj(u-, t)), prefix-summed
            g = (before[:, :, c] * inv_y[:, c, None])[:, :, None] * (
                after[:, c, :] - after_minus[:, c, :]
            )[:, None, :]
            cum = np.concatenate([np.zeros((1, sn, sn)), np.cumsum(g, axis=0)])
            _add_rows(infl, pers[sel], cum[hi[sel]] - cum[lo[sel]])
        # movers at u <= t: (P_bj(u, t) - P_cj(u, t)) instead of the stayer's term
        mv = np.flatnonzero(moves & (k_x <= m))
        if mv.size:
            u, src, b = k_x[mv] - 1, fr[mv], to[mv]
            coef = before[u, :, src] * inv_y[u, src][:, None]  # (n_mv, S)
            diff = after[u, b, :] - after[u, src, :]  # (n_mv, S)
            _add_rows(infl, pers[mv], coef[:, :, None] * diff[:, None, :])
        entered = np.flatnonzero(k_e < m)
        last = np.full(n_pers, -1, dtype=np.int64)
        np.maximum.at(last, pers[entered], entered)
        w_now = np.where(last >= 0, w[np.maximum(last, 0)], 0.0)
        var = np.einsum("i,iaj->aj", w_now * w_now, infl * infl)
        se[n_t] = np.sqrt(np.maximum(var, 0.0))
    return est, se


def _add_rows(out: np.ndarray, index: np.ndarray, values: np.ndarray) -> None:
    """``out[index[r]] += values[r]`` for each r (repeated indices add), shape (n, S, S)."""
    n, s, _ = out.shape
    flat = values.reshape(values.shape[0], s * s)
    view = out.reshape(n, s * s)
    for col in range(s * s):
        view[:, col] += np.bincount(index, weights=flat[:, col], minlength=n)
