"""Covariate design matrices for the regression estimators (formula or list of columns).

Both forms go through ``formulaic`` so that a list of columns and the equivalent formula give the
same matrix: numeric columns enter as they are, string / categorical / boolean columns are
expanded into treatment-coded indicators against their first level (pandas categorical order,
otherwise sorted), exactly like R's ``model.matrix`` with default contrasts. The intercept
formulaic adds is dropped (a Cox model has none). Column names are made readable:
``education[T.higher]`` and ``C(education, contr.treatment('basic'))[T.higher]`` both become
``education[higher]``; interactions keep formulaic's ``:``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from formulaic import Formula, model_matrix

_C_TERM = re.compile(r"^C\(\s*`?([^`,()]+?)`?\s*(?:,.*)?\)\[(?:T\.)?(.*)\]$")
_PLAIN_TERM = re.compile(r"^`?([^`\[\]]+?)`?\[T\.(.*)\]$")


def _readable(name: str) -> str:
    parts = []
    for part in name.split(":"):
        m = _C_TERM.match(part) or _PLAIN_TERM.match(part)
        parts.append(f"{m.group(1)}[{m.group(2)}]" if m else part.strip("`"))
    return ":".join(parts)


def _quote(column: str) -> str:
    return column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", column) else f"`{column}`"


@dataclass(frozen=True)
class Design:
    """How covariates were turned into a design matrix; rebuilds the matrix for new data.

    Attributes
    ----------
    formula
        The formula used (a list of columns is turned into ``a + b + ...``).
    variables
        Data columns the formula reads.
    columns
        Readable names of the design-matrix columns (model coefficients), in order.
    assign
        ``(term label, column positions)`` for each model term; a factor with k levels is one
        term with k - 1 columns (used by term-wise tests such as ``cox.zph``).
    """

    formula: str
    variables: tuple[str, ...]
    columns: tuple[str, ...]
    assign: tuple[tuple[str, tuple[int, ...]], ...]
    spec: Any = None

    def matrix(self, data: pd.DataFrame) -> np.ndarray:
        """Design matrix (float, n x p) of ``data`` with the encoding learnt at fit time."""
        missing = [v for v in self.variables if v not in data.columns]
        if missing:
            raise KeyError(f"newdata has no column(s) {missing} needed by '{self.formula}'")
        mm = self.spec.get_model_matrix(data, output="pandas", na_action="raise")
        return np.asarray(mm.drop(columns=["Intercept"]), dtype=float)


def formula_variables(covariates: str | Sequence[str]) -> list[str]:
    """Data columns a covariate specification reads (in a stable order)."""
    if isinstance(covariates, str):
        return sorted(Formula(covariates).required_variables)
    return list(covariates)


def build_design(data: pd.DataFrame, covariates: str | Sequence[str]) -> tuple[Design, np.ndarray]:
    """Design matrix of ``data`` for ``covariates`` (a formula string or a list of column names).

    ``data`` must hold no missing values in the covariate columns (callers drop incomplete rows
    first so that the response and the design stay aligned).
    """
    if isinstance(covariates, str):
        formula = covariates
        if "~" in formula:
            raise ValueError(
                f"covariates formula '{formula}' must be a right-hand side only (no '~'); "
                "the response is given by duration=/event="
            )
    else:
        cols = list(covariates)
        if not cols:
            raise ValueError("covariates is empty; give at least one column")
        formula = " + ".join(_quote(c) for c in cols)
    mm = model_matrix(formula, data, output="pandas", na_action="raise")
    if "Intercept" not in mm.columns:
        raise ValueError(
            f"covariates formula '{formula}' removes the intercept; Cox-type models have no "
            "intercept and expand factors against a reference level, so leave out '-1' / '0 +'"
        )
    spec = mm.model_spec
    raw = [c for c in mm.columns if c != "Intercept"]
    readable = [_readable(c) for c in raw]
    if len(set(readable)) != len(readable):  # never merge two coefficients under one name
        readable = raw
    position = {c: i for i, c in enumerate(raw)}
    assign = []
    for term, idx in spec.term_indices.items():
        positions = tuple(position[mm.columns[i]] for i in idx if mm.columns[i] != "Intercept")
        if positions:
            assign.append((str(term), positions))
    x = np.asarray(mm[raw], dtype=float)
    variables = tuple(formula_variables(covariates))
    return (
        Design(
            formula=formula,
            variables=variables,
            columns=tuple(readable),
            assign=tuple(assign),
            spec=spec,
        ),
        x,
    )
