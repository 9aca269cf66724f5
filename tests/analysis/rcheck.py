"""Comparison of our estimates with R's reference values (shared by the R-check test modules)."""

from __future__ import annotations

import numpy as np


def close_to_r(actual, expected, tol: float, what: str = "") -> None:
    """Assert ``actual`` equals R's ``expected`` to ``tol`` (absolute): same shape, NaN where R
    has NA, and every other entry within ``tol``."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, what
    np.testing.assert_array_equal(np.isnan(actual), np.isnan(expected), err_msg=what)
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=0, atol=tol, err_msg=what)
