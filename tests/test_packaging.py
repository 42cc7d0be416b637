"""The project's own files: dependency lists agree, the package imports cheaply, CI is wired."""
import re
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name_and_spec(requirement: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement)
    name = m.group(1).lower().replace("_", "-")
    return name, m.group(2).replace(" ", "")


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = dict(_name_and_spec(r) for r in project["dependencies"])
    for extra in project["optional-dependencies"].values():
        wanted.update(_name_and_spec(r) for r in extra)

    conda = {}
    in_pip = in_deps = False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.split("#", 1)[0].rstrip()
        if re.match(r"^\S", stripped):  # a top-level key: name, channels, dependencies
            in_deps = stripped.startswith("dependencies:")
            continue
        if not in_deps:
            continue
        if re.match(r"^\s*-\s*pip:\s*$", stripped):
            in_pip = True
            continue
        m = re.match(r"^(\s*)-\s*(\S.*)$", stripped)
        if not m:
            continue
        if in_pip and len(m.group(1)) > 2:
            if m.group(2).startswith("-e"):
                continue  # the editable install of the project itself
        else:
            in_pip = False
        name, spec = _name_and_spec(m.group(2))
        if name in ("python", "pip"):
            continue
        conda[name] = spec
    assert conda == wanted


def test_import_is_cheap_and_compiles_nothing():
    code = (
        "import time, sys; t = time.perf_counter(); import numerics; dt = time.perf_counter() - t; "
        "print(dt, 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    seconds, numba_loaded = float(out[0]), out[1] == "True"
    assert not numba_loaded, "import numerics must not import (or compile with) numba"
    assert seconds < 1.0


def test_public_names_resolve():
    import numerics

    for name in numerics.__all__:
        assert getattr(numerics, name) is not None


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make reproduce" in readme
    assert "make test" in ci


def test_notebooks_are_stored_without_outputs():
    import json

    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, path.name


def test_readme_lists_every_claim():
    from numerics.claims import all_claims

    readme = (ROOT / "README.md").read_text()
    missing = [c.id for c in all_claims() if f"`{c.id}`" not in readme]
    assert not missing


def test_readme_python_examples_run():
    """The code blocks of the README's "Using the library" section run as printed."""
    import re

    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks
    namespace: dict = {}
    exec(compile("\n".join(blocks), "README.md", "exec"), namespace)
    assert namespace["hist"].epochs == 2
