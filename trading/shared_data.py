"""Where the shared market data lives (LOBSTER days, daily bars)."""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """`DESK_SHARED_DATA`, else the nearest `shared/data` folder above the project."""
    configured = os.environ.get("DESK_SHARED_DATA")
    if configured:
        return Path(configured)
    for folder in PROJECT_ROOT.parents:
        candidate = folder / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return PROJECT_ROOT.parent / "shared" / "data"
