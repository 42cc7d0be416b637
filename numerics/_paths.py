"""Where outputs go: one folder, ``reports/`` at the project root by default.

``NUMERICS_REPORT_DIR`` overrides it (``reproduce`` sets it for the notebooks
it executes so that their figures land beside the claims report).
"""
from __future__ import annotations

import os
from pathlib import Path

__all__ = ["project_root", "report_dir", "figure_dir"]


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above ``start`` (default: cwd) that holds the suite."""
    here = Path.cwd() if start is None else Path(start)
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "numerics").is_dir():
            return folder
    return None


def report_dir() -> Path:
    env = os.environ.get("NUMERICS_REPORT_DIR")
    if env:
        path = Path(env)
    else:
        root = project_root()
        path = (root if root is not None else Path.cwd()) / "reports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def figure_dir() -> Path:
    path = report_dir() / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path
