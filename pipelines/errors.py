"""Errors shared by the pipeline modules (a module of its own so that :mod:`pipelines.run`
and :mod:`pipelines.stages` can both import it without an import cycle)."""

from __future__ import annotations


class PipelineError(RuntimeError):
    """A stage cannot produce valid output; the message says why (the CLI exits with code 2)."""
