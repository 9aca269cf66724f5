"""Report stage: the Quarto documents of ``reports/`` rendered to PDF and HTML.

``render_reports`` is the stage function (``star report``). The document code cells use
:class:`ReportContext` (reading, protecting and printing results tables), :mod:`.fmt`
(numbers the Danish/English way), :mod:`.figures` (standard figures in one style) and
:mod:`.readings` (one-sentence readings generated from the numbers).
"""

from __future__ import annotations

from .context import ReportContext
from .render import DOCUMENTS, ReportParams, render_document, render_reports

__all__ = ["DOCUMENTS", "ReportContext", "ReportParams", "render_document", "render_reports"]
