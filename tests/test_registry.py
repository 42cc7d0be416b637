"""The claims registry, the report writer and the command line."""
import json
import math
import os
import subprocess
import sys

import pytest

from numerics.claims import Part, Result, format_table, full_mode
from numerics.claims import _registry


def test_part_relations():
    assert Part("a", 1.0, 2.0, "<=").passed
    assert not Part("a", 3.0, 2.0, "<=").passed
    assert Part("a", 3.0, 2.0, ">=").passed
    assert Part("a", 0.5, (0.4, 0.6), "in").passed
    assert not Part("a", 0.7, (0.4, 0.6), "in").passed
    assert Part("a", 0, 0, "==").passed
    assert not Part("a", math.nan, 1.0, "<=").passed, "NaN must never pass"
    with pytest.raises(ValueError, match="relation"):
        Part("a", 1.0, 2.0, "<")
    with pytest.raises(ValueError, match="low, high"):
        Part("a", 1.0, 2.0, "in")


def test_result_passes_only_when_every_part_passes_and_headlines_the_failure():
    good, bad = Part("good", 1.0, 2.0), Part("bad", 3.0, 2.0)
    assert Result([good]).passed
    r = Result([good, bad])
    assert not r.passed and r.main is bad
    with pytest.raises(ValueError, match="at least one Part"):
        Result([])


def test_full_mode_switch(monkeypatch):
    monkeypatch.setenv("NUMERICS_FULL", "1")
    assert full_mode() and not full_mode(False)
    monkeypatch.setenv("NUMERICS_FULL", "0")
    assert not full_mode() and full_mode(True)


def test_a_crashing_check_is_reported_as_a_failed_claim(monkeypatch):
    def boom(*, seed, n):
        raise RuntimeError("kaput")

    monkeypatch.setitem(
        _registry._REGISTRY,
        "test.boom",
        _registry.Claim("test.boom", "t", "s", "p", "theory/x.md", "notebooks/x.ipynb", boom, {"n": 1}, {"n": 2}, 0),
    )
    record = _registry.run("test.boom")
    assert record["passed"] is False and "kaput" in record["note"]
    assert "**NO**" in format_table([record])


def test_run_check_rejects_unknown_sizes_and_ids():
    first = _registry.all_claims()[0]
    with pytest.raises(TypeError, match="unknown size"):
        _registry.run_check(first.id, not_a_size=3)
    with pytest.raises(KeyError, match="known ids"):
        _registry.get("no.such.claim")


def test_cli_claims_writes_a_report(tmp_path):
    first = _registry.all_claims()[0]
    env = {**os.environ, "NUMERICS_REPORT_DIR": str(tmp_path), "NUMERICS_PROGRESS": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "numerics", "reproduce", "--only", first.id, "--no-notebooks"],
        capture_output=True, text=True, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    records = json.loads((tmp_path / "claims.json").read_text())
    assert [r["id"] for r in records] == [first.id]
    for key in ("id", "title", "paper", "observed", "bound", "passed", "seconds"):
        assert key in records[0]
    assert first.id in (tmp_path / "claims.md").read_text()
    assert first.id in proc.stdout


def test_cli_list_names_every_claim():
    proc = subprocess.run([sys.executable, "-m", "numerics", "list"], capture_output=True, text=True, check=True)
    for c in _registry.all_claims():
        assert c.id in proc.stdout


def test_reproduce_shares_results_with_its_notebooks_only_when_asked(monkeypatch, tmp_path):
    calls = []

    def counted(*, seed, n):
        calls.append(n)
        return Result([Part("n", n, 10)], data={"n": n})

    monkeypatch.setitem(
        _registry._REGISTRY,
        "test.counted",
        _registry.Claim("test.counted", "t", "s", "p", "theory/x.md", "notebooks/x.ipynb", counted, {"n": 1}, {"n": 2}, 0),
    )
    monkeypatch.delenv("NUMERICS_RESULT_CACHE", raising=False)
    _registry.run_check("test.counted")
    _registry.run_check("test.counted")
    assert calls == [1, 1], "without reproduce's cache every call computes"

    monkeypatch.setenv("NUMERICS_RESULT_CACHE", str(tmp_path))
    first = _registry.run_check("test.counted")
    again = _registry.run_check("test.counted")
    assert calls == [1, 1, 1] and again.data == first.data
    _registry.run_check("test.counted", full=True)  # another mode is another result
    _registry.run_check("test.counted", n=3)  # overridden sizes are never shared
    assert calls == [1, 1, 1, 2, 3]
