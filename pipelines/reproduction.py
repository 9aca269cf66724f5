"""The reproduction stage: validated tables + derived frames -> ``results/reproduction/*.csv``.

Writes ``star2022.csv`` (published vs reproduced, BRIEF R1-R22) and the detailed tables
(characteristics, efforts, continuity, hovedveje, hovedveje_sequences, municipal, caseloads,
national_counts). Every table passes disclosure control (:mod:`analysis.disclosure`) and is checked
with :func:`analysis.disclosure.assert_publishable` (counts, extremes, person ids of the input)
before it is written.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pandas as pd
import yaml

import analysis.star2022
from analysis.star2022 import (
    PublishedFigure,
    StarInputs,
    StarParameters,
    auto_count_scale,
    compute_star2022,
)
from data_schema.mapping import StateMapping, load_state_mapping
from pipelines.config import StarConfig
from pipelines.publish import write_table

log = logging.getLogger(__name__)

PUBLISHED_PATH = Path(analysis.star2022.__file__).with_name("published.yaml")
REGISTER_TABLES = (
    "persons",
    "benefit_spells",
    "activation_offers",
    "exemptions",
    "conversations",
    "monthly_paid_hours",
    "caseworker_assignments",
)
DERIVED_FILES = {"spells": "spells", "cohort": "cohorts", "sequences": "sequences"}
DETAIL_TABLES = (
    "characteristics",
    "efforts",
    "continuity",
    "hovedveje",
    "hovedveje_sequences",
    "municipal",
    "caseloads",
    "national_counts",
)


def load_published(path: str | Path | None = None) -> list[PublishedFigure]:
    """The published figures (``analysis/star2022/published.yaml`` by default)."""
    raw = yaml.safe_load(Path(path or PUBLISHED_PATH).read_text(encoding="utf-8"))
    figures = []
    for f in raw["figures"]:
        figures.append(
            PublishedFigure(
                id=str(f["id"]),
                part=str(f.get("part", "all")),
                statistic=str(f["statistic"]),
                unit=str(f["unit"]),
                bound=str(f["bound"]),
                published=None if f.get("published") is None else float(f["published"]),
                published_text=str(f.get("published_text", "")),
                tolerance=None if f.get("tolerance") is None else float(f["tolerance"]),
                source=str(f.get("source", "")),
                definition=" ".join(str(f.get("definition", "")).split()),
            )
        )
    return figures


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


def _find(directory: Path, stem: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        p = directory / f"{stem}{suffix}"
        if p.exists():
            return p
    return None


def load_register(validated: Mapping[str, pd.DataFrame] | str | Path) -> dict[str, pd.DataFrame]:
    """The register tables the statistics use, from a dict of frames or a directory of
    ``<table>.parquet`` (or ``.csv``) files. Missing optional tables become empty frames."""
    from data_schema.tables import TABLES

    out: dict[str, pd.DataFrame] = {}
    for name in REGISTER_TABLES:
        if isinstance(validated, Mapping):
            df = validated.get(name)
        else:
            p = _find(Path(validated), name)
            df = _read(p) if p is not None else None
        if df is None:
            if name in ("persons", "benefit_spells"):
                raise FileNotFoundError(f"{validated}: the register table {name} is required")
            df = pd.DataFrame({c: pd.Series(dtype=object) for c in TABLES[name].columns})
            for c in TABLES[name].date_columns:
                df[c] = pd.to_datetime(df[c])
        out[name] = df
    return out


def load_derived(derived_dir: str | Path) -> dict[str, pd.DataFrame | None]:
    """Spells (required), cohorts and sequences (optional) from the derive stage's directory."""
    d = Path(derived_dir)
    out: dict[str, pd.DataFrame | None] = {}
    for key, stem in DERIVED_FILES.items():
        p = _find(d, stem)
        if p is None and key == "spells":
            raise FileNotFoundError(f"{d}: spells.parquet (from the derive stage) is required")
        out[key] = _read(p) if p is not None else None
    return out


def parameters_from_config(
    config: StarConfig, mapping: StateMapping, cohort: pd.DataFrame | None
) -> StarParameters:
    """StarParameters from the run configuration (reference date, cohort, review date, scale)."""
    params = StarParameters(
        reference_date=config.cohorts.reference_date,
        cohort_label=config.cohorts.stock_quarter,
        n_half_years=config.cohorts.n_half_years,
        kh_codes=frozenset(mapping.kh_codes()),
    )
    section = getattr(config, "reproduction", None)
    scale = getattr(section, "count_scale", None) if section is not None else None
    if section is not None:
        params = replace(
            params,
            review_date=section.review_date,
            caseload_date=section.caseload_date,
            municipal_min_persons=section.municipal_min_persons,
        )
    if scale is None:
        scale = auto_count_scale(cohort, params)
    return replace(params, count_scale=float(scale))


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c].dtype):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


def run_reproduction(
    validated: Mapping[str, pd.DataFrame] | str | Path,
    derived_dir: str | Path,
    results_dir: str | Path,
    config: StarConfig | None = None,
    *,
    mapping: StateMapping | None = None,
    out_dir: str | Path | None = None,
    effects_path: str | Path | None = None,
    published_path: str | Path | None = None,
) -> list[Path]:
    """Compute every STAR 2022 statistic, apply disclosure control and write the CSV tables.

    Parameters
    ----------
    validated
        The validated register tables (dict of frames) or their directory.
    derived_dir
        Output directory of the derive stage (``spells.parquet``, ``cohorts.parquet``,
        ``sequences.parquet``).
    results_dir
        Results root; R17 is read from ``<results_dir>/effects/estimates.csv`` when present.
    config, mapping
        Run configuration and state mapping (defaults: the shipped ones).
    out_dir
        Where the tables go (default ``<results_dir>/reproduction``).

    Returns
    -------
    Paths of the files written, ``star2022.csv`` first.
    """
    config = config or StarConfig()
    mapping = mapping or load_state_mapping(config.state_mapping)
    threshold = config.disclosure.threshold
    results_dir = Path(results_dir)
    out = Path(out_dir) if out_dir is not None else results_dir / "reproduction"
    register = load_register(validated)
    derived = load_derived(derived_dir)
    effects_file = Path(effects_path) if effects_path else results_dir / "effects" / "estimates.csv"
    effects = pd.read_csv(effects_file) if effects_file.exists() else None
    params = parameters_from_config(config, mapping, derived["cohort"])
    log.info("STAR 2022 statistics (threshold %d, count scale %.3f)", threshold, params.count_scale)
    inputs = StarInputs(**register, **derived, effects=effects)
    results = compute_star2022(inputs, params, threshold)
    tables = results.publish(load_published(published_path), threshold)
    table = tables["star2022"]
    known_ids = set(register["persons"]["person_id"].astype(str))
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name in ("star2022", *DETAIL_TABLES):
        if name not in tables:
            continue
        df = tables[name]
        ready = _csv_ready(df)
        written.append(write_table(ready, out / f"{name}.csv", threshold, known_ids))
    written += _write_trends(inputs, params, config, derived_dir, out, known_ids)
    n_within = int(table["within"].fillna(False).sum())
    n_decided = int(table["within"].notna().sum())
    log.info("reproduction: %d of %d decidable rows within tolerance", n_within, n_decided)
    return written


def _write_trends(
    inputs: StarInputs,
    params: StarParameters,
    config: StarConfig,
    derived_dir: str | Path,
    out: Path,
    known_ids: set[str],
) -> list[Path]:
    """``stock_by_year.csv`` and ``trends.csv`` over the trend years the derive stage built the
    cohorts of (``derive_manifest.json``: ``trend_years``; none = nothing written)."""
    from analysis.star2022.trends import publish_trends, trend_statistics
    from pipelines.years import config_for_year

    manifest = Path(derived_dir) / "derive_manifest.json"
    years = json.loads(manifest.read_text()).get("trend_years", []) if manifest.exists() else []
    if not years:
        return []
    by_year = {}
    for y in years:
        cfg_y = config_for_year(config, y)
        by_year[y] = replace(
            params,
            reference_date=cfg_y.cohorts.reference_date,
            cohort_label=cfg_y.cohorts.stock_quarter,
            review_date=cfg_y.reproduction.review_date,
            caseload_date=None,
        )
    threshold = config.disclosure.threshold
    log.info("trends over the report years %s", ", ".join(map(str, years)))
    stock, trends = publish_trends(*trend_statistics(inputs, by_year, threshold), threshold)
    paths = []
    for name, df in (("stock_by_year", stock), ("trends", trends)):
        paths.append(write_table(df, out / f"{name}.csv", threshold, known_ids))
    return paths


def run_stage(ctx, out: Path) -> None:
    """Adapter for :class:`pipelines.run.Stage`: ``run=run_stage`` with output
    ``ctx.results_dir / "reproduction"`` and inputs ``[ctx.validated_dir, ctx.derived_dir,
    ctx.results_dir / "effects"]`` (the effects results are optional, for R17)."""
    run_reproduction(ctx.validated_dir, ctx.derived_dir, ctx.results_dir, ctx.config, out_dir=out)
