"""Progress bars that stay quiet where nobody watches (CI logs, tests).

``NUMERICS_PROGRESS=0`` turns them off; otherwise tqdm draws them on stderr.
"""
from __future__ import annotations

import os

from tqdm.auto import tqdm

__all__ = ["progress"]


def progress(iterable=None, **kwargs):
    disable = os.environ.get("NUMERICS_PROGRESS", "1").strip().lower() in ("0", "false", "no", "off")
    kwargs.setdefault("disable", disable)
    kwargs.setdefault("leave", False)
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs)
