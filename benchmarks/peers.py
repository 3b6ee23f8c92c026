"""Engine adapters for the mask benchmarks: constrain and the peer libraries, behind one small interface.

Every adapter builds its per-vocabulary state once (``setup``), then for each pattern:

* ``compile(pattern)``       -- the engine's compiled form of the regex;
* ``matcher(compiled)``      -- a fresh per-sequence matcher (an :class:`EngineMatcher`);
* ``EngineMatcher.fill``     -- computes the next-token mask and returns it as int32 words
  (bit ``i % 32`` of word ``i // 32`` is token ``i``), the layout every engine here shares;
* ``EngineMatcher.advance``  -- consumes one token (raises on rejection);
* ``EngineMatcher.is_accepting``.

``fill`` is the call a benchmark times, so it is the engine's own mask entry point bound
once (no extra Python layers beyond a bound method or ``functools.partial``).

The peers (xgrammar, llguidance, outlines-core) are optional: ``load_engine`` raises
:class:`EngineUnavailable` with the reason when one cannot be imported or built offline.
They are benchmark tools only, never dependencies of the package; see ``setup_peers.sh``.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import os
import re
import time
from typing import Any, Callable, Iterator

import numpy as np

ENGINE_NAMES: tuple[str, ...] = ("ours", "ours-python", "xgrammar", "llguidance", "outlines")


class EngineUnavailable(RuntimeError):
    """The engine cannot be used here (not installed, cannot build offline, unsupported input)."""


def num_words(size: int) -> int:
    return (size + 31) // 32


def words_to_bool(words: np.ndarray, size: int) -> np.ndarray:
    """Unpack int32 mask words (little-endian bit order within each word) to a bool array of ``size``."""
    flat = np.ascontiguousarray(np.asarray(words).reshape(-1), dtype=np.int32)
    bits = np.unpackbits(flat.view(np.uint8), bitorder="little")
    out = np.zeros(size, dtype=bool)
    n = min(size, bits.size)
    out[:n] = bits[:n].astype(bool)
    return out


def version_of(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        mod = importlib.import_module(module)
        return str(getattr(mod, "__version__", "?"))


# --------------------------------------------------------------------------- token bytes

def _byte_level_table() -> dict[str, int]:
    """The printable-character alphabet of byte-level BPE, character -> byte."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    chars = list(keep)
    extra = 0
    for b in range(256):
        if b not in keep:
            keep.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(keep, chars)}


_SP_BYTE = re.compile(r"^<0x([0-9A-Fa-f]{2})>$")


def hf_token_bytes(tokenizer: Any) -> tuple[dict[int, bytes], set[int]]:
    """Exact bytes of every ordinary token of a fast tokenizer, and the ids of its special tokens.

    Written separately from the package's own conversion so the outlines-core adapter does not
    depend on it: byte-level BPE maps characters through the byte alphabet, SentencePiece
    vocabularies map ``▁`` to a space and ``<0xNN>`` to one byte.
    """
    vocab: dict[str, int] = tokenizer.get_vocab()
    added = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    specials = {int(i) for i in (getattr(tokenizer, "all_special_ids", []) or [])}
    specials |= {int(i) for i, t in added.items() if getattr(t, "special", False)}
    table = _byte_level_table()
    byte_level = all(ch in table for text, i in list(vocab.items())[:2000] if i not in added for ch in text)
    out: dict[int, bytes] = {}
    for text, idx in vocab.items():
        if idx in specials:
            continue
        if idx in added:
            out[idx] = str(added[idx].content).encode("utf-8")
        elif byte_level:
            try:
                out[idx] = bytes(table[ch] for ch in text)
            except KeyError:
                out[idx] = text.encode("utf-8")
        else:
            m = _SP_BYTE.match(text)
            out[idx] = bytes([int(m.group(1), 16)]) if m else text.replace("\u2581", " ").encode("utf-8")
    return out, specials


# --------------------------------------------------------------------------- interface

class EngineMatcher:
    """A per-sequence matcher: ``fill`` (timed), ``advance``, ``is_accepting``."""

    fill: Callable[[], np.ndarray]

    def advance(self, token_id: int) -> None:
        raise NotImplementedError

    def is_accepting(self) -> bool:
        raise NotImplementedError


class Engine:
    name = ""
    version = ""
    #: extra facts to print (thread settings, options)
    notes: str = ""

    def setup(self, tokenizer: Any) -> dict[str, float]:
        """Build the per-vocabulary state; returns the timed phases in seconds."""
        raise NotImplementedError

    @property
    def size(self) -> int:
        """Width of the masks this engine produces, in tokens."""
        raise NotImplementedError

    def compile(self, pattern: str) -> Any:
        raise NotImplementedError

    def matcher(self, compiled: Any) -> EngineMatcher:
        raise NotImplementedError

    def warm_up(self) -> None:
        """Pay process-level one-time costs (not per vocabulary, not per pattern) before timing."""
        m = self.matcher(self.compile(r"[0-9]+"))
        m.fill()

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        """Engine-specific facts about a compiled pattern after a run (cache sizes, states)."""
        return {}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter_ns()
    value = fn()
    return value, (time.perf_counter_ns() - t0) / 1e9


# --------------------------------------------------------------------------- constrain

class _OursMatcher(EngineMatcher):
    def __init__(self, m: Any) -> None:
        self.m = m
        self.fill = m.mask  # the matcher's own method: returns the (cached, read-only) words

    def advance(self, token_id: int) -> None:
        self.m.advance(token_id)

    def is_accepting(self) -> bool:
        return bool(self.m.is_accepting())

    def state_is_cached(self) -> bool:
        """Whether the next ``mask()`` is a memo hit (the state's mask was computed before)."""
        m = self.m
        if getattr(m, "_finished_at", None) is not None:
            return True
        return m.state in m.cache._masks


class OursEngine(Engine):
    name = "ours"
    #: the CONSTRAIN_ENGINE value patterns are compiled under ("" keeps the default: native when built)
    engine = ""

    def __init__(self) -> None:
        import constrain
        from constrain._engine import engine_name

        self.c = constrain
        self.version = version_of("constrain")
        self.vocab: Any = None
        with engine_env(self.engine):
            chosen = engine_name()
        self.notes = ("native core (Rust)" if chosen == "native" else "Python + numpy reference engine") + \
            "; masks memoized per automaton state and shared by matchers of one constraint"

    def setup(self, tokenizer: Any) -> dict[str, float]:
        from constrain.mask.matcher import vocabulary_slices

        c = self.c
        self.vocab, t_vocab = _timed(lambda: c.Vocabulary.from_tokenizer(tokenizer))
        _, t_trie = _timed(lambda: self.vocab.trie)
        _, t_slices = _timed(lambda: vocabulary_slices(self.vocab))
        return {"Vocabulary.from_tokenizer": t_vocab, "trie": t_trie, "slices": t_slices}

    def warm_up(self) -> None:
        # The first \d / \w / \s in a process builds the Unicode class tables once.
        self.c.regex(r"\d\w\s")
        super().warm_up()

    @property
    def size(self) -> int:
        return int(self.vocab.size)

    def compile(self, pattern: str) -> Any:
        from constrain import compile_cache

        compile_cache.clear()  # a fresh constraint each time: this measures compiling, not the reuse cache
        with engine_env(self.engine):
            return self.c.regex(pattern)

    def matcher(self, compiled: Any) -> _OursMatcher:
        return _OursMatcher(compiled.matcher(self.vocab))

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        cache = compiled.mask_cache(self.vocab)
        dfa = compiled.automaton
        states = getattr(dfa, "num_states", None)
        if callable(states):
            states = states()
        return {"masks_cached": len(cache._masks), "mask_cache_bytes": int(cache._bytes),
                "dfa_states": states}


class OursPythonEngine(OursEngine):
    """Our Python reference engine (``CONSTRAIN_ENGINE=python``), for native-vs-Python ratios in one run."""

    name = "ours-python"
    engine = "python"


@contextlib.contextmanager
def engine_env(value: str) -> Iterator[None]:
    """``CONSTRAIN_ENGINE=value`` inside the block (nothing when ``value`` is empty)."""
    if not value:
        yield
        return
    old = os.environ.get("CONSTRAIN_ENGINE")
    os.environ["CONSTRAIN_ENGINE"] = value
    try:
        yield
    finally:
        if old is None:
            del os.environ["CONSTRAIN_ENGINE"]
        else:
            os.environ["CONSTRAIN_ENGINE"] = old


# --------------------------------------------------------------------------- xgrammar

class _XgrMatcher(EngineMatcher):
    def __init__(self, xgr: Any, compiled: Any, size: int) -> None:
        self.gm = xgr.GrammarMatcher(compiled)
        self.bitmask = xgr.allocate_token_bitmask(1, size)
        self.words = self.bitmask.numpy()[0]  # shares memory with the torch tensor
        fill = functools.partial(self.gm.fill_next_token_bitmask, self.bitmask)
        words = self.words

        def fill_words() -> np.ndarray:
            fill()
            return words

        self.fill = fill_words

    def advance(self, token_id: int) -> None:
        if not self.gm.accept_token(token_id):
            raise RuntimeError(f"xgrammar rejected token {token_id}")

    def is_accepting(self) -> bool:
        return bool(self.gm.is_completed()) if hasattr(self.gm, "is_completed") else False


class XgrammarEngine(Engine):
    name = "xgrammar"
    notes = "GrammarCompiler(max_threads=1, cache_enabled=False)"

    def __init__(self) -> None:
        try:
            import torch  # noqa: F401  (xgrammar's bitmask helpers allocate torch tensors)
            import xgrammar
        except Exception as exc:  # ImportError, or a broken binary wheel
            raise EngineUnavailable(f"cannot import xgrammar: {exc!r}") from exc
        torch.set_num_threads(1)
        self.xgr = xgrammar
        self.version = version_of("xgrammar")
        self._size = 0

    def setup(self, tokenizer: Any) -> dict[str, float]:
        xgr = self.xgr
        self.info, t_info = _timed(lambda: xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=len(tokenizer)))
        self.compiler, t_comp = _timed(lambda: xgr.GrammarCompiler(self.info, max_threads=1, cache_enabled=False))
        self._size = int(self.info.vocab_size)
        return {"TokenizerInfo.from_huggingface": t_info, "GrammarCompiler": t_comp}

    @property
    def size(self) -> int:
        return self._size

    def compile(self, pattern: str) -> Any:
        return self.compiler.compile_regex(pattern)

    def matcher(self, compiled: Any) -> _XgrMatcher:
        return _XgrMatcher(self.xgr, compiled, self._size)

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        try:
            return {"compiled_bytes": int(compiled.memory_size_bytes)}
        except Exception:
            return {}


# --------------------------------------------------------------------------- llguidance

class _LlgMatcher(EngineMatcher):
    def __init__(self, llg: Any, tokenizer: Any, grammar: str, size: int) -> None:
        self.m = llg.LLMatcher(tokenizer, grammar, log_level=0)
        if self.m.is_error():
            raise RuntimeError(f"llguidance: {self.m.get_error()}")
        self.words = np.zeros(num_words(size), dtype=np.int32)
        compute = self.m.unsafe_compute_mask_ptr
        ptr, nbytes, words = self.words.ctypes.data, self.words.nbytes, self.words

        def fill_words() -> np.ndarray:
            compute(ptr, nbytes)
            return words

        self.fill = fill_words

    def advance(self, token_id: int) -> None:
        if not self.m.consume_token(token_id) or self.m.is_error():
            raise RuntimeError(f"llguidance rejected token {token_id}: {self.m.get_error()}")

    def is_accepting(self) -> bool:
        return bool(self.m.is_accepting())


class LlguidanceEngine(Engine):
    name = "llguidance"
    notes = "LLMatcher.unsafe_compute_mask_ptr (what llguidance.numpy.fill_next_token_bitmask calls), single matcher"

    def __init__(self) -> None:
        try:
            import llguidance
            import llguidance.hf  # noqa: F401
        except Exception as exc:
            raise EngineUnavailable(f"cannot import llguidance: {exc!r}") from exc
        self.llg = llguidance
        self.version = version_of("llguidance")
        self._size = 0

    def setup(self, tokenizer: Any) -> dict[str, float]:
        self.lltok, t = _timed(lambda: self.llg.hf.from_tokenizer(tokenizer, n_vocab=len(tokenizer)))
        self._size = int(self.lltok.vocab_size)
        return {"llguidance.hf.from_tokenizer": t}

    @property
    def size(self) -> int:
        return self._size

    def compile(self, pattern: str) -> str:
        # The grammar text; llguidance compiles it when the LLMatcher is built (part of time to first mask).
        return self.llg.grammar_from("regex", pattern)

    def matcher(self, compiled: str) -> _LlgMatcher:
        return _LlgMatcher(self.llg, self.lltok, compiled, self._size)


# --------------------------------------------------------------------------- outlines-core

class _OutlinesMatcher(EngineMatcher):
    def __init__(self, oc: Any, index: Any, size: int) -> None:
        self.g = oc.Guide(index)
        self.words = np.zeros(num_words(size), dtype=np.int32)
        write = self.g.write_mask_into
        ptr, n, words = self.words.ctypes.data, self.words.size, self.words

        def fill_words() -> np.ndarray:
            write(ptr, n, 4)
            return words

        self.fill = fill_words

    def advance(self, token_id: int) -> None:
        self.g.advance(token_id, return_tokens=False)

    def is_accepting(self) -> bool:
        return bool(self.g.is_finished())


class OutlinesEngine(Engine):
    name = "outlines"
    notes = "outlines_core.Index (whole index built at construction) + Guide.write_mask_into"

    def __init__(self) -> None:
        try:
            import outlines_core
        except Exception as exc:
            raise EngineUnavailable(f"cannot import outlines_core: {exc!r}") from exc
        self.oc = outlines_core
        self.version = version_of("outlines_core")
        self._size = 0

    def setup(self, tokenizer: Any) -> dict[str, float]:
        # Vocabulary.from_pretrained downloads from the hub; build it from the local tokenizer instead.
        def build() -> Any:
            token_bytes, _specials = hf_token_bytes(tokenizer)
            by_bytes: dict[bytes, list[int]] = {}
            for idx, data in token_bytes.items():
                if data and idx != tokenizer.eos_token_id:
                    by_bytes.setdefault(data, []).append(idx)
            return self.oc.Vocabulary(int(tokenizer.eos_token_id), by_bytes)

        self.vocabulary, t = _timed(build)
        self._size = len(tokenizer)
        return {"Vocabulary(eos, {bytes: ids})": t}

    @property
    def size(self) -> int:
        return self._size

    def compile(self, pattern: str) -> Any:
        return self.oc.Index(pattern, self.vocabulary)

    def matcher(self, compiled: Any) -> _OutlinesMatcher:
        return _OutlinesMatcher(self.oc, compiled, self._size)

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        try:
            return {"index_states": len(compiled.get_transitions())}
        except Exception:
            return {}


_ENGINES: dict[str, Callable[[], Engine]] = {
    "ours": OursEngine,
    "ours-python": OursPythonEngine,
    "xgrammar": XgrammarEngine,
    "llguidance": LlguidanceEngine,
    "outlines": OutlinesEngine,
}


def load_engine(name: str) -> Engine:
    """Instantiate an adapter; raises :class:`EngineUnavailable` (with the reason) when it cannot run here."""
    try:
        factory = _ENGINES[name]
    except KeyError:
        raise EngineUnavailable(f"unknown engine {name!r}; choose from {', '.join(ENGINE_NAMES)}") from None
    return factory()
