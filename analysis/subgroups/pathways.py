"""Exit pathways of the groups: cumulative incidence of each exit from the KH system, by group.

Members of a stock on a reference date are followed from that date until their spell ends (exit
code of ``data_schema.derived.EXIT_CODES``; other exits compete) or the extract ends (censored).
Two time scales:

``since_reference``
    Years since the reference date; everyone enters at 0 (the stock is the risk set), so
    F_k(t) is "the share of the group on the reference date that has left to k within t years".
``seniority``
    Years since the start of the current spell, with delayed entry at the seniority on the
    reference date (a stock is a left-truncated sample of spells: members are only seen because
    they were still on benefit then). F_k(t) is then conditional on still being in the spell at the
    earliest entry time of the group.

Estimation by :class:`analysis.survival.AalenJohansen` (matches R ``survfit``); published curves pass
:func:`analysis.disclosure.guard_curve`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from analysis._base import require_columns
from analysis.disclosure import guard_curve
from analysis.survival import AalenJohansen, AalenJohansenResult
from data_schema.derived import EXIT_CODES, MODEL_CAUSES

DAYS_PER_YEAR = 365.25
TIME_SCALES: tuple[str, ...] = ("since_reference", "seniority")
#: Exits shown by default: job, førtidspension, ressourceforløb.
DEFAULT_CAUSES: tuple[str, ...] = MODEL_CAUSES


def follow_up_frame(
    members: pd.DataFrame,
    spells: pd.DataFrame,
    reference_date: pd.Timestamp | str,
    end_of_data: pd.Timestamp | str,
) -> pd.DataFrame:
    """Per member: years of follow-up and exit code after the reference date.

    Parameters
    ----------
    members
        ``person_id``, ``spell_start``, ``seniority_days`` (the current spell on the reference date)
        and a ``group`` column.
    spells
        Derived spells (``person_id, spell_start, spell_end, exit_state``).
    reference_date
        Start of follow-up.
    end_of_data
        Last day of the extract: ongoing spells are censored here.

    Returns
    -------
    ``person_id, group, entry_seniority, exit_seniority, follow_up, event`` (years; event =
    EXIT_CODES code, 0 = censored). Spells that end on the reference date get a follow-up of half
    a day (the estimator needs exit > entry).
    """
    require_columns(members, ["person_id", "spell_start", "seniority_days", "group"], "members")
    require_columns(spells, ["person_id", "spell_start", "spell_end", "exit_state"], "spells")
    ref = pd.Timestamp(reference_date)
    end = pd.Timestamp(end_of_data)
    sp = spells[["person_id", "spell_start", "spell_end", "exit_state"]]
    f = members[["person_id", "spell_start", "seniority_days", "group"]].merge(
        sp, on=["person_id", "spell_start"], how="left", validate="one_to_one"
    )
    spell_end = pd.to_datetime(f["spell_end"])
    ended = spell_end.notna() & (spell_end <= end)
    stop = spell_end.where(ended, end)
    days = (stop - ref).dt.days.to_numpy(dtype=float)
    days = np.maximum(days, 0.5)
    code = f["exit_state"].map(dict(EXIT_CODES)).astype("Float64").fillna(0).to_numpy(dtype=float)
    event = np.where(ended.to_numpy(), code, 0).astype(np.int64)
    entry = f["seniority_days"].to_numpy(dtype=float) / DAYS_PER_YEAR
    return pd.DataFrame(
        {
            "person_id": f["person_id"].to_numpy(),
            "group": f["group"].astype(str).to_numpy(),
            "entry_seniority": entry,
            "exit_seniority": entry + days / DAYS_PER_YEAR,
            "follow_up": days / DAYS_PER_YEAR,
            "event": event,
        }
    )


def fit_pathways(frame: pd.DataFrame, time_scale: str = "since_reference") -> AalenJohansenResult:
    """Aalen-Johansen cumulative incidence by ``group`` on the chosen time scale (module docstring)."""
    if time_scale == "since_reference":
        return AalenJohansen().fit(frame, duration="follow_up", event="event", group="group")
    if time_scale == "seniority":
        return AalenJohansen().fit(
            frame,
            duration="exit_seniority",
            event="event",
            entry="entry_seniority",
            group="group",
        )
    raise ValueError(f"time_scale must be one of {TIME_SCALES}")


def pathway_curves(
    frame: pd.DataFrame,
    *,
    causes: Sequence[str] = DEFAULT_CAUSES,
    time_scales: Sequence[str] = TIME_SCALES,
    threshold: int = 5,
) -> tuple[pd.DataFrame, dict[str, AalenJohansenResult]]:
    """Published cumulative-incidence curves of ``causes`` by group, for each time scale.

    Returns
    -------
    The guarded curve table ``time_scale, group, exit, time, estimate, std_error, conf_low,
    conf_high, n_risk, n_event`` (time in years) and the fits by time scale.
    """
    names = {v: k for k, v in EXIT_CODES.items()}
    wanted = {EXIT_CODES[c] for c in causes}
    frames, fits = [], {}
    for ts in time_scales:
        fit = fit_pathways(frame, ts)
        fits[ts] = fit
        tidy = fit.tidy()
        tidy = tidy[tidy["cause"].isin(wanted)].copy()
        tidy["exit"] = tidy["cause"].map(names)
        tidy = tidy.drop(columns="cause")
        guarded = guard_curve(tidy, threshold=threshold, by=["group", "exit"])
        guarded.insert(0, "time_scale", ts)
        frames.append(guarded)
    cols = [
        "time_scale",
        "group",
        "exit",
        "time",
        "estimate",
        "std_error",
        "conf_low",
        "conf_high",
        "n_risk",
        "n_event",
    ]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
    out["n_risk"] = out["n_risk"].astype("int64")
    out["n_event"] = out["n_event"].astype("int64")
    return out[cols], fits


def pathway_summary(
    curves: pd.DataFrame,
    frame: pd.DataFrame,
    horizons: Sequence[float] = (1.0, 2.0, 3.0),
    *,
    causes: Sequence[str] = DEFAULT_CAUSES,
    threshold: int = 5,
) -> pd.DataFrame:
    """Cumulative incidence at ``horizons`` years after the reference date, by group and exit, read
    off the published (guarded) ``since_reference`` curves: the estimate of the last published step
    at or before the horizon; 0 when the group has no event of that exit before it; missing when
    events exist but no step could be published, or when fewer than ``threshold`` persons are still
    followed at the horizon (the estimate would rest on few persons).

    Returns
    -------
    ``group, exit, horizon_years, n, estimate, conf_low, conf_high`` (``n`` = persons in the group).
    """
    c = curves[curves["time_scale"] == "since_reference"]
    n = frame.groupby("group").size()
    rows = []
    codes = dict(EXIT_CODES)
    for g in sorted(n.index, key=lambda x: (len(str(x)), str(x))):
        fg = frame[frame["group"] == g]
        for cause in causes:
            cc = c[(c["group"] == g) & (c["exit"] == cause)].sort_values("time")
            ev_times = fg.loc[fg["event"] == codes[cause], "follow_up"].to_numpy()
            for h in horizons:
                still = int((fg["follow_up"] >= h).sum())
                row = {"group": str(g), "exit": cause, "horizon_years": float(h), "n": int(n[g])}
                pub = cc[(cc["time"] <= h) & (cc["n_event"] > 0)]
                if still < threshold:
                    est = lo = hi = np.nan
                elif (ev_times <= h).sum() == 0:
                    est, lo, hi = 0.0, np.nan, np.nan
                elif len(pub):
                    last = pub.iloc[-1]
                    est, lo, hi = last["estimate"], last["conf_low"], last["conf_high"]
                else:
                    est = lo = hi = np.nan
                row.update({"estimate": est, "conf_low": lo, "conf_high": hi})
                rows.append(row)
    out = pd.DataFrame(rows)
    return out


def exit_by_horizon(
    frame: pd.DataFrame, horizon: float, causes: Sequence[str] = DEFAULT_CAUSES
) -> pd.Series:
    """Each member's state ``horizon`` years after the reference date, as a categorical outcome:
    the exit (one of ``causes``) if the spell ended with it by then, ``other_exit`` for any other
    exit by then, ``in_spell`` when still in the spell; missing when censored before the horizon.

    Parameters
    ----------
    frame
        :func:`follow_up_frame` (``follow_up`` in years, ``event`` = EXIT_CODES code, 0 censored).
    horizon
        Years after the reference date.
    causes
        Exits kept as their own level (machine names of ``EXIT_CODES``).
    """
    require_columns(frame, ["follow_up", "event"], "follow-up frame")
    names = {EXIT_CODES[c]: c for c in causes}
    fu = frame["follow_up"].to_numpy(dtype=float)
    ev = frame["event"].to_numpy()
    exited = (ev != 0) & (fu <= horizon)
    out = np.where(fu >= horizon, "in_spell", None).astype(object)
    out[exited] = [names.get(int(e), "other_exit") for e in ev[exited]]
    return pd.Series(out, index=frame.index, name="state", dtype=object)


def horizon_levels(causes: Sequence[str] = DEFAULT_CAUSES) -> tuple[str, ...]:
    """Levels of :func:`exit_by_horizon`, in display order."""
    return (*causes, "other_exit", "in_spell")


def cause_labels(language: str = "da") -> Mapping[str, str]:
    """Readable names of the exits."""
    da = {
        "job": "job",
        "fp": "førtidspension",
        "rf": "ressourceforløb",
        "fj": "fleksjob",
        "edu": "uddannelse",
        "self_support": "selvforsørgelse",
        "other_benefit": "anden ydelse",
        "dead_or_emigrated": "død/udvandret",
    }
    en = {
        "job": "job",
        "fp": "disability pension",
        "rf": "resource programme",
        "fj": "flexjob",
        "edu": "education",
        "self_support": "self-support",
        "other_benefit": "other benefit",
        "dead_or_emigrated": "dead/emigrated",
    }
    return da if language == "da" else en
