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
