"""Where the shared public test data lives (read in place, never copied into the project)."""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pytest

SHARED = Path(os.environ.get("CONSTRAIN_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """A path under the shared data folder; missing data is an error under CI, a skip elsewhere."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI", "").lower() == "true":
            raise FileNotFoundError(f"shared test data missing: {path}")
        pytest.skip(f"shared test data not found: {path}")
    return path


def read_jsonl(*parts: str) -> Iterator[dict[str, Any]]:
    """Rows of a JSON-lines file under the shared data folder."""
    with shared_path(*parts).open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)
