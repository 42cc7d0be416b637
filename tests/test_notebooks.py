"""Every notebook runs top to bottom in quick mode and writes the figures it names."""
import re
import time

import pytest

from numerics.reproduce import execute_notebook, notebook_paths

NOTEBOOKS = notebook_paths()


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, tmp_path, _report_dir):
    start = time.time()
    nb = execute_notebook(path, tmp_path / path.name, full=False, timeout=900)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    names = re.findall(r"save_fig\(\s*\w+\s*,\s*['\"]([^'\"]+)['\"]", code)
    assert names, f"{path.name} saves no figure"
    for name in names:
        png = _report_dir / "figures" / f"{name}.png"
        assert png.is_file() and png.stat().st_mtime >= start - 1, f"{path.name} did not write {png.name}"
