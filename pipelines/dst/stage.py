"""The ``adapt`` stage of ``star run --extract``: DST-style extract -> the project's tables.

It runs before ingest, writes ``<work_dir>/dst/`` (``tables/`` for ingest, ``adapt_report.json``,
``auxiliary/``), and points the run's ``raw_dir`` at ``<work_dir>/dst/tables`` so that every later
stage reads the converted tables. A synthetic register's ``ground_truth/`` is copied along (it is
not input data; the analyses use it for recovery checks). Cached like every stage: by the extract
files, ``extract.yaml``, the state mapping and the code.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipelines.run import RunContext, Stage


def adapt_stage(ctx: RunContext, extract: Path) -> Stage:
    """The adapt stage for the extract in ``ctx.raw_dir``; sets ``ctx.raw_dir`` to its output."""
    from data_schema.mapping import DEFAULT_MAPPING_PATH, load_state_mapping
    from pipelines.dst.adapt import adapt_extract, load_extract_config

    raw = Path(ctx.raw_dir)
    out_dir = ctx.work_dir / "dst"
    ext = load_extract_config(extract)  # fail early on a bad file
    ctx.raw_dir = out_dir / "tables"

    def run(c: RunContext, out: Path) -> None:
        cfg = c.config
        adapt_extract(
            raw,
            ext,
            out,
            load_state_mapping(cfg.state_mapping),
            (cfg.extract_window.start, cfg.extract_window.end),
            threads=cfg.engine.duckdb_threads,
        )
        shutil.rmtree(out / "cache", ignore_errors=True)  # converted SAS/CSV copies
        if (raw / "ground_truth").is_dir():
            shutil.copytree(raw / "ground_truth", out / "tables" / "ground_truth")

    def inputs(c: RunContext) -> list[Path]:
        files = [raw / f.file for f in ext.files]
        return [*files, Path(extract), Path(c.config.state_mapping or DEFAULT_MAPPING_PATH)]

    return Stage(
        name="adapt",
        output=lambda c: out_dir,
        inputs=inputs,
        config_sections=("extract_window", "state_mapping"),
        run=run,
    )
