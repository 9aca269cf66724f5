"""Generate a synthetic register with the package's own statistics in its expected statistics.

``star synth`` and the ``synth`` stage call :func:`synthesize`: the generator
(:func:`pipelines.synthetic.generate`) writes the register, its ground truth and the month-level
truth statistics; :func:`add_pipeline_statistics` then runs ``analysis.star2022`` on the written
register and adds the ``pipeline`` section to ``ground_truth/expected_statistics.json``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pandas as pd

from pipelines.calibration.pipeline_stats import TRUTH_MONTHS, star_statistics
from pipelines.synthetic.generate import (
    REGISTER_TABLES,
    GenerateResult,
    SyntheticRegister,
    generate,
)
from pipelines.synthetic.truth import write_json

PIPELINE_STATS_MAX_SCALE = 0.3
"""Above this scale (national) expected_statistics.json holds the month-level truth statistics only
(the pipeline statistics on 500,000 persons would dominate the generation time)."""

TRUTH_TABLES = ("true_spells", "true_subgroups", "true_monthly_states")


def read_register(
    directory: str | Path, truth_months: tuple[pd.Timestamp, pd.Timestamp] | None = None
) -> SyntheticRegister:
    """A written synthetic register (Parquet) read back as frames (no simulation result).

    ``truth_months`` (first, last month) keeps only those months of ``true_monthly_states`` (the
    largest table; decoding all of it dominates the read).
    """
    d = Path(directory)
    tables = {name: pd.read_parquet(d / f"{name}.parquet") for name in REGISTER_TABLES}
    truth = {}
    for name in TRUTH_TABLES:
        filters = None
        if name == "true_monthly_states" and truth_months is not None:
            filters = [("month", ">=", truth_months[0]), ("month", "<=", truth_months[1])]
        truth[name] = pd.read_parquet(d / "ground_truth" / f"{name}.parquet", filters=filters)
    return SyntheticRegister(tables, truth, None)  # type: ignore[arg-type]


def add_pipeline_statistics(directory: str | Path) -> bool:
    """Add the ``pipeline`` section (``analysis.star2022`` on the written register) to
    ``<directory>/ground_truth/expected_statistics.json``.

    Only for Parquet registers up to :data:`PIPELINE_STATS_MAX_SCALE`; returns whether the section
    was added (False when there is no expected_statistics.json, the register is CSV or too large).
    """
    d = Path(directory)
    path = d / "ground_truth" / "expected_statistics.json"
    if not path.exists() or not (d / "persons.parquet").exists():
        return False
    stats = json.loads(path.read_text())
    if stats["scale"] > PIPELINE_STATS_MAX_SCALE:
        return False
    stats["pipeline"] = {
        "definition": "analysis.star2022 (the package's own STAR 2022 statistics) on the "
        "written register, with derived frames built from the ground truth by the derive "
        "stage's definitions; shares as fractions, counts at national scale",
        "values": {
            k: round(v, 6) for k, v in star_statistics(read_register(d, TRUTH_MONTHS)).items()
        },
    }
    write_json(stats, path)
    return True


def synthesize(size: str | float, seed: int, out_dir: str | Path, **options) -> GenerateResult:
    """:func:`pipelines.synthetic.generate` (same arguments) followed by
    :func:`add_pipeline_statistics` when the statistics are asked for (the default)."""
    result = generate(size, seed, out_dir, **options)
    if options.get("statistics", True):
        t0 = time.perf_counter()
        add_pipeline_statistics(out_dir)
        seconds = time.perf_counter() - t0
        result.seconds["statistics"] = result.seconds.get("statistics", 0.0) + seconds
        result.seconds["total"] = result.seconds.get("total", 0.0) + seconds
    return result
