"""Figure helpers for the notebooks: one style, every figure saved as a PNG.

Figures are named after the claim they show (``save_fig(fig, "fwht.cost")``)
and written to ``reports/figures/`` (see :mod:`numerics._paths`).
"""
from __future__ import annotations

from pathlib import Path

from ._paths import figure_dir
from .stats import loglog_slope

__all__ = ["save_fig", "loglog_slope", "style"]  # loglog_slope re-exported for notebooks


def style() -> None:
    """A plain, readable Matplotlib style shared by every notebook."""
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "savefig.dpi": 120,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
        }
    )


def save_fig(fig, name: str) -> Path:
    """Save ``fig`` as ``reports/figures/<name>.png`` and return the path."""
    safe = name.replace("/", "_").replace(" ", "_")
    path = figure_dir() / f"{safe}.png"
    fig.savefig(path, bbox_inches="tight")
    return path


