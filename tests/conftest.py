import os

import pytest

# Quiet progress bars and quick sizes in tests, whatever the caller's environment says.
os.environ["NUMERICS_PROGRESS"] = "0"
os.environ["NUMERICS_FULL"] = "0"
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True, scope="session")
def _report_dir(tmp_path_factory):
    """Figures written during tests go to a temporary folder, not the user's reports/."""
    folder = tmp_path_factory.mktemp("reports")
    old = os.environ.get("NUMERICS_REPORT_DIR")
    os.environ["NUMERICS_REPORT_DIR"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("NUMERICS_REPORT_DIR", None)
    else:
        os.environ["NUMERICS_REPORT_DIR"] = old


@pytest.fixture(autouse=True, scope="session")
def _shared_results(tmp_path_factory):
    """Claim results computed by test_claims are reused by the notebooks test_notebooks executes.

    The same mechanism as ``reproduce`` (``NUMERICS_RESULT_CACHE``): each check
    runs once per session; a notebook run on its own (``-k notebook``) computes
    its claims afresh.  Calls with overrides or another seed never use it.
    """
    folder = tmp_path_factory.mktemp("results")
    old = os.environ.get("NUMERICS_RESULT_CACHE")
    os.environ["NUMERICS_RESULT_CACHE"] = str(folder)
    yield folder
    if old is None:
        os.environ.pop("NUMERICS_RESULT_CACHE", None)
    else:
        os.environ["NUMERICS_RESULT_CACHE"] = old
