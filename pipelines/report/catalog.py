"""The results files the documents read: the results registry, seen from the report layer.

Every results table is declared once, in :mod:`pipelines.results_registry` (name, file, columns
and kinds, the columns the documents read, disclosure rule, description). A document asks for a
table by name (``ctx.read("stock_by_year")``); a file that is absent or lacks a column the
documents read is "not available in this run" and the document says so instead of failing.

``CATALOG`` is that registry (the same objects). ``ResultSpec(path, columns, area, suppress=...,
curve=...)`` still builds an entry in the older format; see :mod:`pipelines.results_registry`
for how to port one.
"""

from __future__ import annotations

from pipelines.results_registry import REGISTRY, ResultSpec, TableSpec

CATALOG: dict[str, TableSpec] = REGISTRY
"""Every results table by name (:data:`pipelines.results_registry.REGISTRY`)."""

__all__ = ["CATALOG", "ResultSpec", "TableSpec"]
