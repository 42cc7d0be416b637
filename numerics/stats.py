"""Small statistics used by the claim checks (slopes, intervals, standard errors)."""
from __future__ import annotations

import numpy as np
from scipy import stats as _st

__all__ = ["loglog_slope", "clopper_pearson", "standard_error"]


def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x`` (a fitted power law exponent)."""
    x = np.log(np.asarray(x, dtype=float))
    y = np.log(np.asarray(y, dtype=float))
    if x.size < 2:
        raise ValueError(f"need at least two points to fit a slope, got {x.size}")
    return float(np.polyfit(x, y, 1)[0])


def clopper_pearson(failures: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact two-sided confidence interval for a binomial proportion."""
    alpha = 1.0 - confidence
    lo = 0.0 if failures == 0 else float(_st.beta.ppf(alpha / 2, failures, trials - failures + 1))
    hi = 1.0 if failures == trials else float(_st.beta.ppf(1 - alpha / 2, failures + 1, trials - failures))
    return lo, hi


def standard_error(samples) -> float:
    samples = np.asarray(samples, dtype=float)
    return float(samples.std(ddof=1) / np.sqrt(samples.size))
