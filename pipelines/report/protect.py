"""Disclosure control at the document boundary (moved to :mod:`pipelines.protect`, so that the
results registry and the stages use it without importing the report layer)."""

from pipelines.protect import ALL, Protected, protect_curve, protect_table

__all__ = ["ALL", "Protected", "protect_curve", "protect_table"]
