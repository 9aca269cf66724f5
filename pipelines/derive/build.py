"""The derive stage: validated register tables (Parquet) -> every derived frame (Parquet)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from data_schema.mapping import StateMapping, load_state_mapping
from pipelines.config.model import StarConfig
from pipelines.derive._common import BENEFIT_COLUMNS, Shape, Window
from pipelines.derive._engine import Engine, lit_date
from pipelines.derive.cohorts import COHORT_OUT, cohorts_table
from pipelines.derive.frames import person_month_table, start_stop_table
from pipelines.derive.sequences import sequences_table
from pipelines.derive.spells import SPELL_COLUMNS, spells_table
from pipelines.derive.states import classify_periods_table, month_periods_table

OUTPUTS = (
    "spells",
    "cohorts",
    "monthly_states",
    "sequences",
    "start_stop",
    "person_month",
)
"""Files written by :func:`build_all` (``<name>.parquet`` in the output directory)."""

REGISTER_FILES = ("spells_full", "intervals", "records")
"""Files written by :func:`build_register` (the year-independent part of the derivation)."""

MONTHLY_STATES_HISTORY_YEARS = 2
"""Monthly states of cohort members start this many years before the earliest reference date."""


def benefit_shape(validated_dir: Path, config: StarConfig) -> tuple[Path, Shape]:
    """Which benefit table to use: ``config.input.benefits`` (``auto`` prefers benefit_spells)."""
    rec = Path(validated_dir) / "benefit_spells.parquet"
    wk = Path(validated_dir) / "weekly_benefit_codes.parquet"
    choice = config.input.benefits
    if choice == "spells" or (choice == "auto" and rec.exists()):
        if not rec.exists():
            raise FileNotFoundError(f"{rec}: benefit_spells not found (input.benefits = spells)")
        return rec, "records"
    if not wk.exists():
        raise FileNotFoundError(
            f"{validated_dir}: neither benefit_spells.parquet nor weekly_benefit_codes.parquet"
        )
    return wk, "weekly"


def data_end_sql(benefits: str, shape: Shape) -> str:
    """SQL of the last day with benefit data: the latest benefit-record end (or the last day of
    the latest week of a weekly panel)."""
    col = "coalesce(end_date, start_date)" if shape == "records" else "week_start + INTERVAL 6 DAY"
    return f"SELECT max({col})::DATE FROM {benefits}"


def build_register(
    validated_dir: Path,
    out_dir: Path,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
) -> dict[str, Path]:
    """The year-independent part of :func:`build_all`: spells, state intervals and benefit records
    (``<name>.parquet`` for each name in :data:`REGISTER_FILES`, ``register_manifest.json`` with
    the extract's data end). Depends on the extract, ``extract_window``, ``spells``, ``states``
    and the state mapping, not on the report year, so a second report year reuses it."""
    config = config or StarConfig()
    mapping = mapping or load_state_mapping(config.state_mapping)
    validated_dir, out_dir = Path(validated_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    eng = Engine.from_config(config.engine, out_dir)
    try:
        bpath, shape = benefit_shape(validated_dir, config)
        b = eng.view(bpath, BENEFIT_COLUMNS[shape])
        hours_path = validated_dir / "monthly_paid_hours.parquet"
        hours = eng.view(hours_path) if hours_path.exists() else None
        built = spells_table(eng, b, shape, mapping, config, paid_hours=hours)
        tables = dict(zip(REGISTER_FILES, built, strict=True))
        paths = {
            name: eng.write_parquet(f"SELECT * FROM {t}", out_dir / f"{name}.parquet")
            for name, t in tables.items()
        }
        end = eng.scalar(data_end_sql(b, shape))
        manifest = {
            "benefit_input": str(bpath),
            "benefit_shape": shape,
            "data_end": None if end is None else end.isoformat(),
        }
        (out_dir / "register_manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        return paths
    finally:
        eng.close()


def build_all(
    validated_dir: Path,
    out_dir: Path,
    config: StarConfig | None = None,
    mapping: StateMapping | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    register_dir: Path | None = None,
    trend_years: tuple[int, ...] = (),
) -> dict[str, Path]:
    """Derive spells, cohorts, monthly states, sequences, start-stop and person-month frames.

    Parameters
    ----------
    validated_dir
        Directory with the validated register tables ``<table>.parquet`` (columns of
        ``data_schema.tables``); ``benefit_spells`` or ``weekly_benefit_codes`` is required, the
        other tables are used when present.
    out_dir
        Where ``<name>.parquet`` for each name in :data:`OUTPUTS` and ``derive_manifest.json`` go.
    config, mapping
        Run configuration and state mapping (defaults: shipped ones).
    progress
        Called with a short description before each step.
    register_dir
        Output of :func:`build_register` for the same extract and configuration: its spells,
        intervals and records are read instead of being rebuilt.
    trend_years
        Report years of the trend section: their hovedveje quarters and 30 November stocks are
        added to the cohorts (and sequences).

    Returns
    -------
    ``{name: path}`` of the files written (also ``manifest``).

    Everything runs in DuckDB over the Parquet files (memory limit and threads from
    ``config.engine``), so national-scale weekly panels are never loaded into pandas.
    """
    config = config or StarConfig()
    mapping = mapping or load_state_mapping(config.state_mapping)
    validated_dir, out_dir = Path(validated_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    w = Window.of(config)
    eng = Engine.from_config(config.engine, out_dir)
    paths: dict[str, Path] = {}
    try:
        bpath, shape = benefit_shape(validated_dir, config)
        b = eng.view(bpath, BENEFIT_COLUMNS[shape])

        def opt(name: str) -> str | None:
            p = validated_dir / f"{name}.parquet"
            return eng.view(p) if p.exists() else None

        persons, hours = opt("persons"), opt("monthly_paid_hours")
        cwa, conv = opt("caseworker_assignments"), opt("conversations")
        offers, exempt = opt("activation_offers"), opt("exemptions")

        if register_dir is not None:
            say("spells (from the register stage)")
            sp, iv, recs = (
                eng.view(Path(register_dir) / f"{name}.parquet") for name in REGISTER_FILES
            )
        else:
            say(f"spells ({shape}, gap rule {config.spells.gap_rule})")
            sp, iv, recs = spells_table(eng, b, shape, mapping, config, paid_hours=hours)
        paths["spells"] = eng.write_parquet(
            f"SELECT {SPELL_COLUMNS} FROM {sp} ORDER BY person_id, spell_id",
            out_dir / "spells.parquet",
        )

        say("cohorts")
        co = cohorts_table(
            eng,
            sp,
            config,
            mapping,
            persons=persons,
            benefits=recs,
            caseworker_assignments=cwa,
            trend_years=tuple(trend_years),
        )
        paths["cohorts"] = eng.write_parquet(
            f"SELECT {COHORT_OUT} FROM {co} ORDER BY cohort, person_id", out_dir / "cohorts.parquet"
        )

        say("monthly states of cohort members")
        paths["monthly_states"] = _write_monthly_states(eng, co, iv, mapping, config, w, out_dir)

        say("half-year sequences")
        sq = sequences_table(eng, co, iv, mapping, config)
        paths["sequences"] = eng.write_parquet(
            f"""SELECT person_id, cohort, half_year, state, period_start::TIMESTAMP AS period_start,
                       period_end::TIMESTAMP AS period_end FROM {sq}
                ORDER BY cohort, person_id, half_year""",
            out_dir / "sequences.parquet",
        )

        label = (
            config.cohorts.stock_quarter
            if config.frames.cohort == "stock_quarter"
            else f"stock-{config.cohorts.reference_date.isoformat()}"
        )
        frame_cohort = eng.table(f"SELECT * FROM {co} WHERE cohort = '{label}'")
        tables = dict(
            persons=persons,
            caseworker_assignments=cwa,
            conversations=conv,
            activation_offers=offers,
            exemptions=exempt,
            paid_hours=hours,
        )
        say(f"start-stop frame ({label})")
        ss = start_stop_table(eng, frame_cohort, sp, config=config, **tables)
        paths["start_stop"] = eng.write_parquet(
            f"SELECT * FROM {ss} ORDER BY person_id, tstart", out_dir / "start_stop.parquet"
        )
        say(f"person-month frame ({label})")
        pm = person_month_table(eng, frame_cohort, sp, iv, mapping, config=config, **tables)
        paths["person_month"] = eng.write_parquet(
            f"SELECT * FROM {pm} ORDER BY person_id, month", out_dir / "person_month.parquet"
        )

        paths["manifest"] = _write_derive_manifest(
            eng, paths, co, bpath, shape, label, trend_years, config, out_dir
        )
        return paths
    finally:
        eng.close()


def _write_monthly_states(eng, co, iv, mapping, config, w, out_dir: Path) -> Path:
    """Monthly states of the cohort members from ``MONTHLY_STATES_HISTORY_YEARS`` years before the
    earliest reference date (at most the window start) to the window end."""
    first = eng.scalar(
        f"SELECT date_trunc('month', min(reference_date) - INTERVAL {MONTHLY_STATES_HISTORY_YEARS} YEAR)::DATE FROM {co}"
    )
    first_sql = (
        f"greatest({lit_date(first)}, date_trunc('month', {w.sql_start})::DATE)"
        if first
        else w.sql_start
    )
    members = eng.table(f"SELECT DISTINCT person_id FROM {co}")
    per = month_periods_table(eng, members, first_sql, w.sql_end)
    cl = classify_periods_table(eng, iv, per, mapping)
    col = "predominant" if config.states.month_rule == "predominant" else "end_state"
    return eng.write_parquet(
        f"""SELECT c.person_id, p.p_start::TIMESTAMP AS month, c.{col} AS state
            FROM {cl} c JOIN {per} p USING (person_id, period_id) ORDER BY person_id, month""",
        out_dir / "monthly_states.parquet",
    )


def _write_derive_manifest(
    eng, paths, co, bpath, shape, label, trend_years, config, out_dir: Path
) -> Path:
    """``derive_manifest.json``: inputs, gap rule, frame cohort, row counts, cohort sizes."""
    counts = {
        name: int(eng.scalar(f"SELECT count(*) FROM read_parquet('{p}')"))
        for name, p in paths.items()
    }
    manifest = {
        "benefit_input": str(bpath),
        "benefit_shape": shape,
        "gap_rule": config.spells.gap_rule,
        "frame_cohort": label,
        "trend_years": list(trend_years),
        "rows": counts,
        "cohort_sizes": dict(
            eng.con.execute(f"SELECT cohort, count(*) FROM {co} GROUP BY 1 ORDER BY 1").fetchall()
        ),
    }
    mpath = out_dir / "derive_manifest.json"
    mpath.write_text(json.dumps(manifest, indent=2) + "\n")
    return mpath
