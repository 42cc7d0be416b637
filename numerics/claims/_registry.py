"""The claims registry: the unit that ties theory, library, notebooks and tests together.

A *claim* is one checkable statement from a paper (or a correction of one).
It has an id (``"fwht.exact"``), a one-line statement, the paper it comes
from, the theory page that states it precisely, the notebook section that
plots it, and a check function.  The check runs at a *quick* size (default;
what the tests and ``reproduce`` use) or a *full* size (paper scale), from a
fixed seed, and returns a :class:`Result`: what it observed, the bound it
compared against, and whether the claim passed.

Topic modules register their claims with the :func:`claim` decorator; the
modules to load are listed in ``CLAIM_MODULES`` so that importing
``numerics`` stays cheap and nothing is registered twice.
"""
from __future__ import annotations

import importlib
import math
import os
import pickle
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

__all__ = [
    "Claim",
    "Part",
    "Result",
    "claim",
    "get",
    "all_claims",
    "run",
    "run_check",
    "full_mode",
    "CLAIM_MODULES",
]

#: Modules whose import registers claims, in report order.
CLAIM_MODULES: tuple[str, ...] = (
    "numerics.hadamard.claims",
    "numerics.jl.claims",
    "numerics.sketching.claims",
    "numerics.butterfly.claims",
    "numerics.landscape.claims",
    "numerics.factorize.claims",
    "numerics.wide.claims",
    "numerics.kaleidoscope.claims",
    "numerics.gblr.claims",
    "numerics.unitary.claims",
)

_REGISTRY: dict[str, "Claim"] = {}
_LOADED = False

_RELATIONS = ("<=", ">=", "in", "==")


def full_mode(full: bool | None = None) -> bool:
    """Resolve quick/full: an explicit flag wins, else ``NUMERICS_FULL`` (``1``/``true``)."""
    if full is not None:
        return bool(full)
    return os.environ.get("NUMERICS_FULL", "0").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Part:
    """One compared quantity inside a claim: ``observed <relation> bound``."""

    name: str
    observed: float
    bound: float | tuple[float, float]
    relation: str = "<="

    def __post_init__(self):
        if self.relation not in _RELATIONS:
            raise ValueError(f"relation must be one of {_RELATIONS}, got {self.relation!r}")
        if self.relation == "in" and not (isinstance(self.bound, tuple) and len(self.bound) == 2):
            raise ValueError(f"relation 'in' needs bound=(low, high), got {self.bound!r}")

    @property
    def passed(self) -> bool:
        obs = float(self.observed)
        if math.isnan(obs):
            return False
        if self.relation == "<=":
            return obs <= self.bound
        if self.relation == ">=":
            return obs >= self.bound
        if self.relation == "==":
            return obs == self.bound
        low, high = self.bound
        return low <= obs <= high

    def as_dict(self) -> dict:
        bound = list(self.bound) if isinstance(self.bound, tuple) else float(self.bound)
        return {
            "name": self.name,
            "observed": float(self.observed),
            "relation": self.relation,
            "bound": bound,
            "passed": bool(self.passed),
        }

    def __str__(self) -> str:
        if self.relation == "in":
            bound = f"[{_fmt(self.bound[0])}, {_fmt(self.bound[1])}]"
        else:
            bound = _fmt(self.bound)
        return f"{self.name}: {_fmt(self.observed)} {self.relation} {bound}"


def _fmt(x) -> str:
    x = float(x)
    if x == 0 or (1e-3 <= abs(x) < 1e5):
        return f"{x:.4g}"
    return f"{x:.3e}"


@dataclass
class Result:
    """What a check observed.

    ``parts`` lists every compared quantity; the claim passes when all do.
    The *headline* (shown in the report table) is the first failing part, or
    ``parts[headline]`` when all pass.  ``data`` carries arrays for the
    notebook figures; it is not written to the JSON report.
    """

    parts: list[Part]
    headline: int = 0
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not self.parts:
            raise ValueError("a Result needs at least one Part: a check that compares nothing cannot fail")

    @property
    def passed(self) -> bool:
        return all(p.passed for p in self.parts)

    @property
    def main(self) -> Part:
        for p in self.parts:
            if not p.passed:
                return p
        return self.parts[self.headline]

    def __str__(self) -> str:
        status = "PASS" if self.passed else "FAIL"
        lines = [f"{status}  " + str(self.main)]
        lines += [f"      {'ok ' if p.passed else 'BAD'} {p}" for p in self.parts]
        if self.note:
            lines.append(f"      note: {self.note}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Claim:
    id: str
    title: str
    statement: str
    paper: str
    theory: str
    notebook: str
    check: Callable[..., Result]
    quick: Mapping[str, Any]
    full: Mapping[str, Any]
    seed: int

    def sizes(self, full: bool | None = None) -> dict:
        return dict(self.full if full_mode(full) else self.quick)


def claim(
    id: str,
    *,
    title: str,
    statement: str,
    paper: str,
    theory: str,
    notebook: str,
    quick: Mapping[str, Any],
    full: Mapping[str, Any],
    seed: int,
):
    """Register ``check(seed=..., **sizes) -> Result`` as claim ``id``."""

    def decorator(check):
        if id in _REGISTRY and _REGISTRY[id].check.__qualname__ != check.__qualname__:
            raise ValueError(f"claim id {id!r} is registered twice")
        _REGISTRY[id] = Claim(id, title, statement, paper, theory, notebook, check, dict(quick), dict(full), seed)
        return check

    return decorator


def _load() -> None:
    global _LOADED
    if not _LOADED:
        for name in CLAIM_MODULES:
            importlib.import_module(name)
        _LOADED = True


def all_claims() -> list[Claim]:
    """Every registered claim, in report order."""
    _load()
    return list(_REGISTRY.values())


def get(id: str) -> Claim:
    _load()
    try:
        return _REGISTRY[id]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise KeyError(f"no claim with id {id!r}; known ids: {known}") from None


def _result_path(id: str, full: bool | None) -> Path | None:
    """Where ``reproduce`` shares results with the notebooks it runs (``NUMERICS_RESULT_CACHE``).

    Set by ``reproduce`` for the duration of one run (and by the test suite for
    one session): the notebooks it executes then plot the very results the
    report lists instead of computing them a second time.  Otherwise every call
    computes afresh.
    """
    folder = os.environ.get("NUMERICS_RESULT_CACHE")
    if not folder:
        return None
    return Path(folder) / f"{id}.{'full' if full_mode(full) else 'quick'}.pkl"


def run_check(id: str, *, full: bool | None = None, seed: int | None = None, **overrides) -> Result:
    """Run claim ``id``'s check and return its :class:`Result` (with plot data).

    ``overrides`` replace individual sizes, e.g. ``run_check("fwht.exact", ns=[8])``.
    """
    c = get(id)
    sizes = c.sizes(full)
    unknown = set(overrides) - set(sizes)
    if unknown:
        raise TypeError(f"unknown size(s) {sorted(unknown)} for claim {id!r}; it takes {sorted(sizes)}")
    sizes.update(overrides)
    shared = _result_path(id, full) if seed is None and not overrides else None
    if shared is not None and shared.is_file():
        with open(shared, "rb") as fh:
            return pickle.load(fh)
    result = c.check(seed=c.seed if seed is None else seed, **sizes)
    if shared is not None:
        shared.parent.mkdir(parents=True, exist_ok=True)
        with open(shared, "wb") as fh:
            pickle.dump(result, fh)
    return result


def run(id: str, *, full: bool | None = None) -> dict:
    """Run claim ``id`` and return its report record (JSON-ready)."""
    c = get(id)
    mode = "full" if full_mode(full) else "quick"
    start = time.perf_counter()
    error = None
    try:
        result = run_check(id, full=full)
    except Exception as exc:  # a crashing check is a failing claim, reported as such
        result, error = None, f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    record = {
        "id": c.id,
        "title": c.title,
        "statement": c.statement,
        "paper": c.paper,
        "theory": c.theory,
        "notebook": c.notebook,
        "mode": mode,
        "seed": c.seed,
        "sizes": {k: _jsonable(v) for k, v in c.sizes(full).items()},
        "seconds": round(seconds, 3),
    }
    if result is None:
        record.update(observed=None, bound=None, relation=None, passed=False, parts=[], note=error)
    else:
        main = result.main.as_dict()
        record.update(
            observed=main["observed"],
            bound=main["bound"],
            relation=main["relation"],
            quantity=main["name"],
            passed=result.passed,
            parts=[p.as_dict() for p in result.parts],
            note=result.note,
        )
    return record


def _jsonable(v):
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return v


def format_table(records: Sequence[dict]) -> str:
    """The claims report as a Markdown table."""
    head = "| id | title | paper | quantity | observed | bound | passed | seconds |\n|---|---|---|---|---|---|---|---|"

    def esc(text) -> str:
        return str(text).replace("|", "\\|")

    rows = []
    for r in records:
        if r["observed"] is None:
            obs, bound, qty = "error", "", r.get("note", "")
        else:
            obs = _fmt(r["observed"])
            b = r["bound"]
            bound = f"{r['relation']} [{_fmt(b[0])}, {_fmt(b[1])}]" if isinstance(b, list) else f"{r['relation']} {_fmt(b)}"
            qty = r.get("quantity", "")
        rows.append(
            f"| {r['id']} | {esc(r['title'])} | {esc(r['paper'])} | {esc(qty)} | {obs} | {bound} | "
            f"{'yes' if r['passed'] else '**NO**'} | {r['seconds']:.1f} |"
        )
    return "\n".join([head, *rows])
