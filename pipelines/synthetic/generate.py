"""Generate the synthetic register to disk, or in memory as pandas frames.

A leaf of the package: no results layer here (the pipeline statistics of
``expected_statistics.json`` are added by :mod:`pipelines.calibration.expected`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.synthetic import dynamics
from pipelines.synthetic.dynamics import Intervention, SimResult
from pipelines.synthetic.events import (
    BLOCKED_TABLES,
    Calendar,
    build_table,
    caseworker_ids,
    iter_blocks,
    kept_persons,
    kh_spells,
)
from pipelines.synthetic.params import SynthParams, load_params
from pipelines.synthetic.quickstats import TruthView, oracle_ari, quick_statistics
from pipelines.synthetic.truth import (
    parameters_document,
    true_monthly_states,
    true_spells,
    true_subgroups,
    write_json,
)
from pipelines.synthetic.weekly import write_weekly
from pipelines.synthetic.writer import (
    Converter,
    cut_columns,
    municipalities_table,
    persons_by,
    to_pandas,
    write_table,
)

Progress = Callable[[str, int, int], None]
REGISTER_TABLES = (
    "persons",
    "municipalities",
    "benefit_spells",
    "monthly_paid_hours",
    "caseworker_assignments",
    "conversations",
    "activation_offers",
    "exemptions",
)


@dataclass
class GenerateResult:
    """What :func:`generate` wrote."""

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def generate(
    size: str | float = "default",
    seed: int = 1,
    out_dir: str | Path = "data/synthetic/default",
    fmt: str = "parquet",
    weekly: bool = False,
    params: SynthParams | None = None,
    intervention: Intervention | None = None,
    progress: Progress | None = None,
    statistics: bool = True,
    extract_end: str | date | None = None,
) -> GenerateResult:
    """Simulate and write the register tables and the ground truth.

    Parameters
    ----------
    size
        ``tiny``, ``default``, ``national`` or a scale (persons relative to national size).
    seed
        Run seed: the same seed (and parameters) gives byte-identical files.
    out_dir
        Directory for ``<table>.<fmt>`` and ``ground_truth/``.
    fmt
        ``parquet`` or ``csv``.
    weekly
        Also write ``weekly_benefit_codes`` (large; streamed in chunks).
    params
        Parameters (default: ``load_params()``).
    intervention
        Optional policy scenario (see :class:`pipelines.synthetic.dynamics.Intervention`).
    progress
        ``progress(label, done, total)`` callback (the CLI shows it as a bar).
    statistics
        Compute ``expected_statistics.json`` (the month-level truth statistics;
        :func:`pipelines.calibration.expected.synthesize` adds the package's own statistics).
    extract_end
        Last day of the extract (default: the end of the simulation). The same simulation is cut
        there, as a delivery made then would hold it (:func:`writer.cut_columns`): with the same
        seed, two cuts give identical rows up to the earlier one, and the later cut is "next
        year's extract" of the same population. The ground truth is not cut (it is the full
        simulation); ``parameters.json`` records the cut as ``extract_end``.
    """
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be parquet or csv, not {fmt!r}")
    cut = None if extract_end is None else np.datetime64(pd.Timestamp(extract_end).date(), "us")
    if cut is not None and weekly:
        raise ValueError("--extract-end is not supported with --weekly (write the spells)")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    params = params or load_params()
    result = GenerateResult(out)
    t0 = time.perf_counter()
    res = dynamics.simulate(params, size, seed, intervention, progress)
    result.seconds["simulate"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    steps = ["build", *REGISTER_TABLES, "truth", *(["weekly"] if weekly else []), "statistics"]
    done = 0

    def tick(label: str) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(label, done, len(steps))

    sp = kh_spells(res)
    kept = kept_persons(res, sp)
    conv = Converter(kept, caseworker_ids(res), res.population.n)
    benefit = build_table("benefit_spells", res, sp, kept)
    present = persons_by(benefit, cut)
    tick("build")
    for name in REGISTER_TABLES:
        if name == "municipalities":
            table = municipalities_table()
        elif name == "benefit_spells":
            table = conv.table(name, cut_columns(name, benefit, cut, present))
        elif name in BLOCKED_TABLES:  # streamed in person blocks (bounded memory)
            counter = {"rows": 0}

            def blocks(name=name, counter=counter):
                for cols in iter_blocks(name, res, kept, benefit):
                    tab = conv.table(name, cut_columns(name, cols, cut, present))
                    counter["rows"] += tab.num_rows
                    yield tab

            result.files[name] = write_table(blocks(), out / name, fmt)
            result.rows[name] = counter["rows"]
            tick(name)
            continue
        else:
            table = conv.table(
                name, cut_columns(name, build_table(name, res, sp, kept), cut, present)
            )
        result.files[name] = write_table(table, out / name, fmt)
        result.rows[name] = table.num_rows
        del table
        tick(name)
    result.seconds["write_tables"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    gt = out / "ground_truth"
    gt.mkdir(exist_ok=True)
    result.files["true_spells"] = write_table(
        true_spells(res, sp, kept, benefit, conv.pid), gt / "true_spells", "parquet"
    )
    result.files["true_subgroups"] = write_table(
        true_subgroups(res, kept, conv.pid), gt / "true_subgroups", "parquet"
    )
    result.files["true_monthly_states"] = write_table(
        true_monthly_states(res, kept, conv.pid), gt / "true_monthly_states", "parquet"
    )
    doc = parameters_document(res, size)
    if cut is not None:
        doc["extract_end"] = str(pd.Timestamp(cut).date())
    write_json(doc, gt / "parameters.json")
    result.files["parameters"] = gt / "parameters.json"
    tick("truth")
    result.seconds["truth"] = time.perf_counter() - t2

    if weekly:
        t3 = time.perf_counter()
        path, n = write_weekly(
            benefit, Calendar.of(res), conv.pid, out / "weekly_benefit_codes", fmt
        )
        result.files["weekly_benefit_codes"] = path
        result.rows["weekly_benefit_codes"] = n
        result.seconds["weekly"] = time.perf_counter() - t3
        tick("weekly")

    if statistics:
        t4 = time.perf_counter()
        stats = expected_statistics(res)
        write_json(stats, gt / "expected_statistics.json")
        result.files["expected_statistics"] = gt / "expected_statistics.json"
        result.seconds["statistics"] = time.perf_counter() - t4
    tick("statistics")
    result.seconds["total"] = time.perf_counter() - t0
    return result


def expected_statistics(res: SimResult) -> dict:
    """The calibrated statistics computed from the truth (month resolution) + the oracle ARI."""
    view = TruthView(res)
    stats = quick_statistics(res, view)
    return {
        "definition": "computed from the generator's true monthly states and event logs "
        "(pipelines.synthetic.quickstats); R19 counts are scaled to national size",
        "scale": res.scale,
        "seed": res.seed,
        "truth_month_level": {
            k: (round(v, 6) if isinstance(v, float) else v) for k, v in stats.items()
        },
        "oracle_ari_nov2021_stock": round(oracle_ari(res), 4),
        "stock_by_year_national_scale": {
            str(y): round(v, 1) for y, v in view.stock_by_year().items() if y >= 1991
        },
    }


def _plain(table) -> pd.DataFrame:
    """Arrow table -> pandas with dictionary (categorical) columns as plain strings."""
    import pyarrow as pa

    fields = [
        pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
        for f in table.schema
    ]
    return table.cast(pa.schema(fields)).to_pandas()


@dataclass
class SyntheticRegister:
    """An in-memory synthetic register: pandas frames in the schema of data_schema.tables."""

    tables: dict[str, pd.DataFrame]
    truth: dict[str, pd.DataFrame]
    result: SimResult


def simulate(
    params: SynthParams | None = None,
    size: str | float = "tiny",
    seed: int = 1,
    intervention: Intervention | None = None,
    truth: bool = True,
) -> SyntheticRegister:
    """Simulate and return the register tables (and truth) as pandas frames, without files.

    Meant for small sizes (tests, scenario comparisons); use :func:`generate` for large ones.
    """
    import pyarrow as pa

    params = params or load_params()
    res = dynamics.simulate(params, size, seed, intervention)
    sp = kh_spells(res)
    kept = kept_persons(res, sp)
    conv = Converter(kept, caseworker_ids(res), res.population.n)
    benefit = build_table("benefit_spells", res, sp, kept)
    tables = {}
    for name in REGISTER_TABLES:
        if name == "municipalities":
            tab = municipalities_table()
        elif name == "benefit_spells":
            tab = conv.table(name, benefit)
        elif name in BLOCKED_TABLES:
            blocks = build_table(name, res, sp, kept, benefit)
            tab = pa.concat_tables([conv.table(name, c) for c in blocks])
        else:
            tab = conv.table(name, build_table(name, res, sp, kept))
        tables[name] = to_pandas(tab, name)
    gt: dict[str, pd.DataFrame] = {}
    if truth:
        gt["true_spells"] = _plain(true_spells(res, sp, kept, benefit, conv.pid))
        gt["true_subgroups"] = _plain(true_subgroups(res, kept, conv.pid))
        gt["true_monthly_states"] = _plain(
            pa.concat_tables(list(true_monthly_states(res, kept, conv.pid)))
        )
    return SyntheticRegister(tables, gt, res)
