"""Defensive repair of broken JSON and YAML from language models: every fix reported, never silently wrong.

``repair(text)`` returns a :class:`RepairResult` (value, fixes, confidence); ``repair_strict(text)`` raises
:class:`~constrain.errors.RepairError` instead of returning an ambiguous result.
"""
from __future__ import annotations

from ..errors import RepairError
from .api import repair, repair_strict
from .result import Fix, RepairResult

__all__ = ["Fix", "RepairError", "RepairResult", "repair", "repair_strict"]
