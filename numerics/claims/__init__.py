"""Claims: registered, checkable statements from the papers (see ``_registry``)."""
from ._registry import (
    CLAIM_MODULES,
    Claim,
    Part,
    Result,
    all_claims,
    claim,
    format_table,
    full_mode,
    get,
    run,
    run_check,
)

__all__ = [
    "CLAIM_MODULES",
    "Claim",
    "Part",
    "Result",
    "all_claims",
    "claim",
    "format_table",
    "full_mode",
    "get",
    "run",
    "run_check",
]
