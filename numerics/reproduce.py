"""The main job: run every claim, execute every notebook, write ``reports/``.

Outputs (all under :func:`numerics._paths.report_dir`):

* ``claims.json``: one record per claim (id, title, paper, observed, bound,
  passed, seconds, and every compared part);
* ``claims.md``: the same as a Markdown table (also printed);
* ``notebooks/<name>.ipynb``: executed copies of ``notebooks/*.ipynb``;
* ``figures/*.png``: every figure the notebooks draw.

Quick mode is the default; ``full=True`` (``--full`` or ``NUMERICS_FULL=1``)
runs paper-scale sizes.  Returns a process exit code: non-zero when a claim
fails or a notebook raises.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Sequence

from ._paths import project_root, report_dir
from ._progress import progress
from .claims import _registry

__all__ = ["run_claims", "write_report", "execute_notebook", "notebook_paths", "reproduce"]


def run_claims(ids: Sequence[str] | None = None, *, full: bool | None = None) -> list[dict]:
    """Run the given claims (default: all) with a progress bar; return their records."""
    claims = _registry.all_claims()
    if ids:
        wanted = list(ids)
        for i in wanted:
            _registry.get(i)  # raises with the list of known ids
        claims = [c for c in claims if c.id in wanted]
    records = []
    bar = progress(claims, desc="claims", unit="claim", leave=True)
    for c in bar:
        bar.set_postfix_str(c.id)
        records.append(_registry.run(c.id, full=full))
        status = "PASS" if records[-1]["passed"] else "FAIL"
        print(f"  [{status}] {c.id} ({records[-1]['seconds']:.1f} s)", file=sys.stderr, flush=True)
    return records


def write_report(records: list[dict], folder: Path | None = None) -> str:
    folder = report_dir() if folder is None else Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "claims.json").write_text(json.dumps(records, indent=2) + "\n")
    table = _registry.format_table(records)
    mode = records[0]["mode"] if records else "quick"
    passed = sum(r["passed"] for r in records)
    text = f"# Claims report ({mode} mode)\n\n{passed} of {len(records)} claims passed.\n\n{table}\n"
    (folder / "claims.md").write_text(text)
    return text


def notebook_paths() -> list[Path]:
    root = project_root()
    if root is None:
        raise FileNotFoundError("could not find the project root (a folder with pyproject.toml and numerics/) above the current directory")
    return sorted((root / "notebooks").glob("[0-9]*.ipynb"))


def execute_notebook(path: Path, out: Path | None = None, *, full: bool | None = None, timeout: int = 1800):
    """Execute a notebook in a fresh kernel; return the executed notebook.

    The kernel runs with the notebook's folder as working directory, with
    ``NUMERICS_FULL`` set from ``full`` and ``NUMERICS_REPORT_DIR`` pointing at
    the report folder, so figures land in ``reports/figures``.
    """
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in ("NUMERICS_FULL", "NUMERICS_REPORT_DIR", "NUMERICS_PROGRESS", "MPLBACKEND")}
    os.environ["NUMERICS_FULL"] = "1" if _registry.full_mode(full) else "0"
    os.environ["NUMERICS_REPORT_DIR"] = str(report_dir().resolve())
    os.environ["NUMERICS_PROGRESS"] = "0"
    os.environ["MPLBACKEND"] = "Agg"
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
        client.execute()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)
    return nb


def reproduce(*, full: bool | None = None, only: Sequence[str] | None = None, notebooks: bool = True) -> int:
    """Run claims and notebooks; write the report; return an exit code."""
    start = time.perf_counter()
    folder = report_dir()
    mode = "full" if _registry.full_mode(full) else "quick"
    print(f"numerics reproduce ({mode} mode) -> {folder}", flush=True)
    # The notebooks plot the results this run computes (no second computation);
    # the folder is emptied first so nothing from an earlier run is reused.
    shared = folder / ".results"
    shutil.rmtree(shared, ignore_errors=True)
    saved = os.environ.get("NUMERICS_RESULT_CACHE")
    os.environ["NUMERICS_RESULT_CACHE"] = str(shared.resolve())
    try:
        return _reproduce(folder, start, full=full, only=only, notebooks=notebooks)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
        if saved is None:
            os.environ.pop("NUMERICS_RESULT_CACHE", None)
        else:
            os.environ["NUMERICS_RESULT_CACHE"] = saved


def _reproduce(folder: Path, start: float, *, full, only, notebooks) -> int:
    records = run_claims(only, full=full)
    text = write_report(records, folder)
    failures = [r["id"] for r in records if not r["passed"]]
    nb_failures = []
    if notebooks:
        paths = notebook_paths()
        for path in progress(paths, desc="notebooks", unit="nb", leave=True):
            t0 = time.perf_counter()
            try:
                execute_notebook(path, folder / "notebooks" / path.name, full=full)
                print(f"  [ OK ] {path.name} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
            except Exception as exc:
                nb_failures.append(path.name)
                print(f"  [FAIL] {path.name}: {type(exc).__name__}: {str(exc)[-2000:]}", file=sys.stderr, flush=True)
    print()
    print(text)
    figures = sorted((folder / "figures").glob("*.png")) if (folder / "figures").is_dir() else []
    print(f"{len(figures)} figures in {folder / 'figures'}; executed notebooks in {folder / 'notebooks'}")
    print(f"total {time.perf_counter() - start:.1f} s")
    if failures:
        print(f"FAILED claims: {', '.join(failures)}")
    if nb_failures:
        print(f"FAILED notebooks: {', '.join(nb_failures)}")
    return 1 if failures or nb_failures else 0
