"""Which engine computes masks: the native core (the default whenever it is built) or the Python reference.

``CONSTRAIN_ENGINE=python`` selects the Python engine, ``native`` requires the native one (an error
if the extension is missing), anything else or unset picks native when importable. The choice is
read when a constraint is built, so one process can hold constraints of both engines.
"""
from __future__ import annotations

import os
from types import ModuleType

from .errors import ConstrainError

ENV_VAR = "CONSTRAIN_ENGINE"


def native_module() -> ModuleType | None:
    """The ``constrain._native`` module if the native engine is selected, else ``None``."""
    choice = os.environ.get(ENV_VAR, "auto").strip().lower()
    if choice == "python":
        return None
    try:
        from . import _native
    except ImportError as e:
        if choice == "native":
            raise ConstrainError(
                f"{ENV_VAR}=native but the native extension is not built ({e}); reinstall with "
                f"`pip install -e .` (needs the Rust toolchain) or set {ENV_VAR}=python"
            ) from None
        return None
    return _native


def engine_name() -> str:
    """``"native"`` or ``"python"``: the engine a constraint built now would use."""
    return "native" if native_module() is not None else "python"
