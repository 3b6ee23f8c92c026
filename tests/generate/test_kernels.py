"""The fused bitmask backends against a numpy reference, without a GPU.

The Triton kernel runs under Triton's interpreter (``TRITON_INTERPRET=1``: CPU tensors,
numpy semantics) when triton is importable (on Linux, ``pip install torch`` pulls it in);
the ``torch.compile`` variant runs through inductor's CPU backend when that works; the
fallback logic is exercised by routing CPU tensors through the CUDA dispatch.
"""
from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from constrain.generate import kernels
from constrain.generate import logits as logits_mod
from constrain.generate.logits import apply_token_bitmask_

# (rows, logit columns, mask words): non-multiple-of-32 vocabularies, logits wider than the
# mask, masks with spare words, one block and many, an empty mask.
SHAPES = [(1, 100, 4), (3, 1000, 32), (4, 1100, 32), (2, 2050, 64), (8, 4096, 128), (16, 3000, 100), (2, 70, 3), (1, 50, 0)]


def reference(logits: torch.Tensor, words: np.ndarray) -> torch.Tensor:
    """Token ``i`` keeps its logit iff bit ``i % 32`` of word ``i // 32`` is set (columns past the words are masked)."""
    rows, width = logits.shape
    bits = np.unpackbits(np.ascontiguousarray(words, dtype=np.int32).view(np.uint8), axis=1, bitorder="little").astype(bool)
    allowed = np.zeros((rows, width), dtype=bool)
    n = min(width, bits.shape[1])
    allowed[:, :n] = bits[:, :n]
    out = logits.clone()
    out[torch.from_numpy(~allowed)] = float("-inf")
    return out


def random_case(rows: int, width: int, n_words: int, seed: int, dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(seed)
    logits = torch.from_numpy(rng.standard_normal((rows, width)).astype(np.float32)).to(dtype)
    words = rng.integers(-(2**31), 2**31, size=(rows, n_words), dtype=np.int64).astype(np.int32)
    if rows > 1 and n_words:
        words[0] = 0  # a dead row
        words[-1] = -1  # everything in the mask allowed
    return logits, words


@pytest.mark.parametrize("rows, width, n_words", SHAPES)
def test_torch_path_matches_reference(rows: int, width: int, n_words: int) -> None:
    logits, words = random_case(rows, width, n_words, seed=rows * width)
    expected = reference(logits, words)
    assert torch.equal(apply_token_bitmask_(logits.clone(), words), expected)
    assert torch.equal(apply_token_bitmask_(logits.clone(), torch.from_numpy(words)), expected)
    if rows == 1:
        assert torch.equal(apply_token_bitmask_(logits[0].clone(), words[0]), expected[0])


@pytest.mark.parametrize("rows, width, n_words", SHAPES)
def test_expand_and_fill_matches_reference(rows: int, width: int, n_words: int) -> None:
    logits, words = random_case(rows, width, n_words, seed=rows + width)
    out = logits.clone()
    kernels.expand_and_fill_(out, torch.from_numpy(words))
    assert torch.equal(out, reference(logits, words))


@pytest.fixture
def interpreted(monkeypatch: pytest.MonkeyPatch) -> None:
    if kernels.triton is None:
        pytest.skip("triton is not importable")
    monkeypatch.setenv("TRITON_INTERPRET", "1")


@pytest.mark.parametrize("rows, width, n_words", SHAPES)
def test_triton_kernel_under_interpreter(interpreted: None, rows: int, width: int, n_words: int) -> None:
    logits, words = random_case(rows, width, n_words, seed=7 * rows + width)
    out = logits.clone()
    kernels.triton_apply_(out, torch.from_numpy(words))
    assert torch.equal(out, reference(logits, words))


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_triton_kernel_dtypes_and_strided_rows(interpreted: None, dtype: torch.dtype) -> None:
    logits, words = random_case(3, 1500, 47, seed=11, dtype=dtype)
    out = logits.clone()
    kernels.triton_apply_(out, torch.from_numpy(words))
    assert torch.equal(out, reference(logits, words))
    # the last position of (batch, seq, vocab) logits: a row stride of seq * vocab
    full = torch.randn(3, 4, 1500).to(dtype)
    before = full.clone()
    kernels.triton_apply_(full[:, -1, :], torch.from_numpy(words))
    assert torch.equal(full[:, -1, :], reference(before[:, -1, :], words))
    assert torch.equal(full[:, :-1, :], before[:, :-1, :])


def test_fused_dispatch_with_triton_interpreter(interpreted: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CUDA dispatch (numpy or torch words, 1-D or 2-D logits) run on CPU tensors through the interpreted kernel."""
    monkeypatch.setattr(logits_mod, "_fused_device", lambda t: True)
    monkeypatch.setattr(kernels, "FAILED", {})
    monkeypatch.setattr(kernels, "BACKENDS", [kernels.BACKENDS[0]])
    assert kernels.BACKENDS[0][0] == "triton"
    for rows, width, n_words in SHAPES[:5]:
        logits, words = random_case(rows, width, n_words, seed=3 * rows + width)
        expected = reference(logits, words)
        assert torch.equal(apply_token_bitmask_(logits.clone(), words), expected)
        assert torch.equal(apply_token_bitmask_(logits.clone(), torch.from_numpy(words).flatten()), expected)
        assert torch.equal(apply_token_bitmask_(logits[0].clone(), words[0]), expected[0])
    assert kernels.FAILED == {}


def _inductor_cpu_works() -> str | None:
    try:
        compiled = torch.compile(lambda x: x * 2 + 1, dynamic=True)
        if not torch.equal(compiled(torch.ones(3)), torch.full((3,), 3.0)):
            return "a trivial compiled function gave a wrong result"
    except Exception as e:  # no C++ compiler, unsupported platform, ...
        return f"{type(e).__name__}: {e}"
    return None


@pytest.mark.slow
def test_compiled_variant_on_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """``torch.compile`` of the expansion (inductor's CPU backend; the first compile takes tens of seconds)."""
    problem = _inductor_cpu_works()
    if problem is not None:
        pytest.skip(f"torch.compile (inductor CPU) does not work here: {problem}")
    monkeypatch.setattr(kernels, "_COMPILED", [])
    for rows, width, n_words in [(1, 1000, 32), (4, 1100, 32), (3, 2050, 64), (1, 50, 0)]:
        logits, words = random_case(rows, width, n_words, seed=rows * 13 + width)
        out = logits.clone()
        kernels.compiled_apply_(out, torch.from_numpy(words))
        assert torch.equal(out, reference(logits, words))


def _failing(calls: list[str], name: str):  # type: ignore[no-untyped-def]
    def run(logits: torch.Tensor, words: torch.Tensor) -> None:
        calls.append(name)
        raise RuntimeError(f"{name} launch failed")

    return run


def test_fallback_to_torch_path_is_remembered(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(logits_mod, "_fused_device", lambda t: True)
    monkeypatch.setattr(kernels, "FAILED", {})
    monkeypatch.setattr(kernels, "BACKENDS", [("a", lambda l, w: True, _failing(calls, "a")), ("b", lambda l, w: True, _failing(calls, "b"))])
    logits, words = random_case(4, 1100, 32, seed=5)
    expected = reference(logits, words)
    with pytest.warns(RuntimeWarning, match="not retried"):
        assert torch.equal(apply_token_bitmask_(logits.clone(), words), expected)
    assert calls == ["a", "b"] and set(kernels.FAILED) == {"a", "b"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(3):
            assert torch.equal(apply_token_bitmask_(logits.clone(), words), expected)
    assert calls == ["a", "b"]


def test_failed_backend_falls_through_to_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    def raising(logits: torch.Tensor, words: torch.Tensor) -> None:
        calls.append("broken")
        raise RuntimeError("compile error")

    monkeypatch.setattr(logits_mod, "_fused_device", lambda t: True)
    monkeypatch.setattr(kernels, "FAILED", {})
    monkeypatch.setattr(kernels, "BACKENDS", [("broken", lambda l, w: True, raising), ("eager", lambda l, w: True, kernels.expand_and_fill_)])
    logits, words = random_case(3, 1000, 32, seed=9)
    with pytest.warns(RuntimeWarning):
        assert torch.equal(apply_token_bitmask_(logits.clone(), words), reference(logits, words))
    assert kernels.apply_fused_(logits.clone(), torch.from_numpy(words)) == "eager"
    assert calls == ["broken"] and list(kernels.FAILED) == ["broken"]


def test_unusable_backend_is_skipped_not_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kernels, "FAILED", {})
    monkeypatch.setattr(kernels, "BACKENDS", [("never", lambda l, w: False, _failing([], "never")), ("eager", lambda l, w: True, kernels.expand_and_fill_)])
    logits, words = random_case(2, 300, 10, seed=1)
    out = logits.clone()
    assert kernels.apply_fused_(out, torch.from_numpy(words)) == "eager"
    assert torch.equal(out, reference(logits, words)) and kernels.FAILED == {}


def test_importing_constrain_does_not_import_triton_or_the_kernels() -> None:
    code = (
        "import sys, constrain, constrain.generate, constrain.hf\n"
        "assert 'constrain.generate.kernels' not in sys.modules\n"
        "import constrain.generate.logits\n"
        "assert 'constrain.generate.kernels' not in sys.modules\n"
        "import numpy as np, torch\n"
        "from constrain.generate import apply_token_bitmask_\n"
        "apply_token_bitmask_(torch.zeros(40), np.array([5], dtype=np.int32))\n"
        "assert 'constrain.generate.kernels' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    bare = subprocess.run([sys.executable, "-c", "import sys, constrain; print('triton' in sys.modules)"], check=True, capture_output=True, text=True, timeout=120)
    assert bare.stdout.strip() == "False"
