"""The optional libraries behind the extras, imported when a feature first needs one."""

from __future__ import annotations

import importlib
from typing import Any

from .errors import UsageError

__all__ = ["require"]

#: the top-level module of each optional library -> the extra that installs it
EXTRAS = {"pyarrow": "arrow", "pandas": "pandas", "polars": "polars", "websockets": "realtime"}


def require(module: str, feature: str = "this") -> Any:
    """Return an optional library's module, or raise UsageError naming the extra that
    installs it (before anything is sent: callers ask first)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        library = module.partition(".")[0]
        raise UsageError(f"{feature} needs {library}, which is not installed: "
                         f"pip install 'pydirectus[{EXTRAS[library]}]'") from None
