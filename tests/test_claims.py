"""Every registered claim passes in quick mode, and is wired to its theory page and notebook."""
import json
import re
from pathlib import Path

import pytest

from numerics import claims

ROOT = Path(__file__).resolve().parents[1]
ALL = claims.all_claims()


def test_registry_is_not_empty():
    assert len(ALL) >= 1


@pytest.mark.claim
@pytest.mark.parametrize("claim_id", [c.id for c in ALL])
def test_claim_passes_in_quick_mode(claim_id):
    result = claims.run_check(claim_id, full=False)
    assert result.passed, str(result)


@pytest.mark.parametrize("claim_id", [c.id for c in ALL])
def test_claim_is_wired_to_theory_and_notebook(claim_id):
    c = claims.get(claim_id)
    assert c.statement and c.title and c.paper
    assert set(c.quick) == set(c.full), "quick and full must set the same sizes"
    theory = ROOT / c.theory
    assert theory.is_file(), c.theory
    assert claim_id in theory.read_text(), f"{c.theory} does not mention {claim_id}"
    nb_path = ROOT / c.notebook.split("#", 1)[0]
    assert nb_path.is_file(), c.notebook
    nb = json.loads(nb_path.read_text())
    headings = [
        line
        for cell in nb["cells"]
        if cell["cell_type"] == "markdown"
        for line in "".join(cell["source"]).splitlines()
        if line.startswith("#")
    ]
    assert any(claim_id in h for h in headings), f"no heading naming {claim_id} in {nb_path.name}"
    code = "".join("".join(cell["source"]) for cell in nb["cells"] if cell["cell_type"] == "code")
    assert re.search(r"save_fig\([^)]*['\"]" + re.escape(claim_id) + r"['\"]", code), f"no figure saved for {claim_id}"
