"""Benchmark: context-free grammar token masks on the Llama-3 vocabulary, constrain vs peer engines, one core.

Three shipped Lark grammars (``grammars/json.lark``, ``grammars/sqlite.lark``,
``grammars/arithmetic.lark``), each walked over valid inputs:

* JSON       -- valid instances from ``../shared/data/maskbench-dev/*.jsonl`` (the first two of at
  least 20 and at most 300 characters per file, files in name order, serialized with ``json.dumps``)
  plus a few hand-written nested documents;
* SQL        -- GeoQuery gold queries (``../shared/data/text2sql/geography/questions.jsonl``): the
  distinct ``gold_sql`` strings in file order, sampled at an even stride, keeping only those our
  grammar accepts (those skipped, and why, are printed);
* arithmetic -- expressions generated from a fixed seed.

For each grammar and engine it measures, like ``bench_regex.py``:

* vocabulary setup   -- per-vocabulary one-time work, timed once and excluded from the rest;
* time to first mask -- compile the grammar into a fresh constraint object, make a matcher, compute
  the first mask (in the running process, after a warm-up that compiles and masks a tiny grammar);
  the compile and the first-mask parts are also reported separately;
* time per mask      -- mean, p50, p99 and max of every mask computed while walking the tokenized
  inputs token by token (the mask before each token and the final one), with one compiled
  constraint shared by a fresh matcher per input, as a server would. Ours memoizes masks per
  matcher state and shares them between matchers of one constraint, so the mean over the first
  input alone (no earlier input to reuse) is reported next to the mean over all inputs. Each step's
  time is the median over ``--trials`` independent runs (fresh constraints);
* peak memory        -- per engine in its own subprocess (see ``bench_regex.py``).

Every token of every input must be allowed by every engine's mask, and the final mask must allow
end-of-sequence; the peers' masks are compared with ours at every step and differences are listed.

Engines (columns):

* ``ours``           -- ``constrain.grammar(text)`` (dynamic lexing);
* ``llguidance``     -- ``LLMatcher(grammar_from("lark", text))``, the same Lark text, unchanged;
* ``xgrammar``       -- ``GrammarCompiler.compile_lark(text)``, the same Lark text, unchanged;
* ``xgrammar-ebnf``  -- xgrammar's own forms: ``compile_builtin_json_grammar()`` for JSON and a
  hand translation of arithmetic to EBNF (``ARITHMETIC_EBNF``); no SQL translation (reason printed).

Usage (from the repository root)::

    python benchmarks/bench_grammar.py                      # every installed engine
    python benchmarks/bench_grammar.py --engines ours,llguidance --json out.json
    python benchmarks/bench_grammar.py --quick              # smoke run
    python benchmarks/bench_grammar.py --engines ours --grammars sql --profile

Peers live in their own environment (``bash benchmarks/setup_peers.sh``; run this file with
``/work/peers-venv/bin/python``). With only constrain installed the tables have just our column.
"""
from __future__ import annotations

import os

import one_thread_env  # noqa: E402,F401  (before numpy and the engines)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Callable  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_regex import (fmt, hwm_mb, limit_torch_threads, load_tokenizer, maxrss_mb,  # noqa: E402
                         pin_cpu, reset_peak_rss, rss_now_mb, stats_us, table, walk_input, WalkLog)
from peers import Engine, EngineMatcher, EngineUnavailable, engine_env, load_engine  # noqa: E402

TARGET_TTFM_MS = 20.0
TARGET_MEAN_US = 100.0
TARGET_P99_US = 2000.0

DATA = ROOT.parent / "shared" / "data"
GRAMMAR_DIR = ROOT / "grammars"
GRAMMAR_NAMES: tuple[str, ...] = ("json", "sql", "arithmetic")
GRAMMAR_FILES = {"json": "json.lark", "sql": "sqlite.lark", "arithmetic": "arithmetic.lark"}
ENGINE_CHOICES: tuple[str, ...] = ("ours", "ours-python", "llguidance", "xgrammar", "xgrammar-ebnf")

# --------------------------------------------------------------------------- inputs

HANDWRITTEN_JSON = [
    '{"a": [1, 2, {"b": null}], "c": {"d": [true, false, -0.5e10, 0, 12.25E-3]}}',
    '[[[[]]], {}, [{}], "quote \\" and backslash \\\\", [[], [[], [[]]]]]',
    '{"nested": {"deeper": {"deepest": [1, [2, [3, [4, {"k": "v"}]]]]}}}',
    '{"unicode": "caf\\u00e9 \\u2603", "pair": "\\ud83d\\ude00", "esc": "tab\\tnew\\nline\\/slash"}',
    '{\n  "pretty": true,\n  "items": [\n    {"id": 1, "tags": ["x", "y"]},\n    {"id": 2, "tags": []}\n  ]\n}',
    '{"name": "Zo\u00eb", "city": "Z\u00fcrich", "note": "raw UTF-8, not escaped"}',
]


def json_inputs(n: int) -> tuple[list[str], list[str]]:
    """Valid JSON documents: two per maskbench-dev file (20..300 characters) plus hand-written ones."""
    out: list[str] = []
    per_file = 2
    files = sorted((DATA / "maskbench-dev").glob("*.jsonl"))
    for path in files:
        taken = 0
        with path.open() as fh:
            for line in fh:
                for test in json.loads(line).get("tests", []):
                    if not test.get("valid"):
                        continue
                    s = json.dumps(test["data"])
                    if 20 <= len(s) <= 300 and s not in out:
                        out.append(s)
                        taken += 1
                    if taken == per_file:
                        break
                if taken == per_file:
                    break
    out += HANDWRITTEN_JSON
    for s in out:
        json.loads(s)
    notes = [f"{len(out) - len(HANDWRITTEN_JSON)} from {len(files)} maskbench-dev files, "
             f"{len(HANDWRITTEN_JSON)} hand-written"]
    if n < len(out):
        step = len(out) / n
        out = [out[int(i * step)] for i in range(n)]
    return out, notes


def sql_inputs(n: int, accepts: Callable[[str], bool] | None, max_len: int = 400) -> tuple[list[str], list[str]]:
    """GeoQuery gold queries: distinct, file order, even stride; only those ``accepts`` takes."""
    seen: dict[str, None] = {}
    with (DATA / "text2sql" / "geography" / "questions.jsonl").open() as fh:
        for line in fh:
            q = json.loads(line)["gold_sql"]
            if len(q) <= max_len:
                seen.setdefault(q, None)
    pool = list(seen)
    notes = [f"{len(pool)} distinct gold queries of at most {max_len} characters; keywords upper case as in the "
             f"data (SELECT, FROM, AS, WHERE, MAX(...)), identifiers mixed case (CITYalias0.CITY_NAME), string "
             f"values double-quoted (\"arizona\", which SQLite and the grammar read as quoted identifiers), "
             f"spaces around parentheses and before the final ;"]
    step = max(1, len(pool) // n)
    out: list[str] = []
    start = 0
    while len(out) < n and start < step:
        for i in range(start, len(pool), step):
            if len(out) == n:
                break
            q = pool[i]
            if q in out:
                continue
            if accepts is not None:
                try:
                    ok = accepts(q)
                    why = "rejected by our grammar"
                except Exception as exc:  # e.g. LimitExceeded
                    ok, why = False, f"{type(exc).__name__}: {exc}"
                if not ok:
                    notes.append(f"skipped ({why}): {q[:160]}{'...' if len(q) > 160 else ''}")
                    continue
            out.append(q)
        start += 1
    return out, notes


def select_sql_in_subprocess(n: int) -> tuple[list[str], list[str]]:
    """``sql_inputs`` filtered by our grammar, run in a child process.

    Compiling the SQL grammar here would warm process-level caches (character-class tables)
    and flatter our first time to first mask, so the check runs elsewhere.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--select-sql", str(n)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        print(f"sql inputs not filtered by our grammar ({' | '.join(tail)})", file=sys.stderr)
        strings, notes = sql_inputs(n, None)
        return strings, notes + ["not filtered: our grammar could not be loaded"]
    got = json.loads(lines[-1])
    return got["strings"], got["notes"]


def select_sql_worker(n: int) -> None:
    import constrain

    g = constrain.grammar((GRAMMAR_DIR / GRAMMAR_FILES["sql"]).read_text())
    strings, notes = sql_inputs(n, g.accepts)
    print(json.dumps({"strings": strings, "notes": notes}))


_VARS = ("x", "y", "alpha", "rate_1", "_tmp", "Total", "n2")
_FUNCS = ("sin", "max", "f", "pow", "log", "clamp")


def _number(rng: random.Random) -> str:
    k = rng.randint(0, 5)
    if k <= 1:
        return str(rng.randint(0, 999))
    if k == 2:
        return f"{rng.randint(0, 99)}.{rng.randint(0, 999)}"
    if k == 3:
        return f".{rng.randint(1, 99)}"
    if k == 4:
        return f"{rng.randint(1, 9)}{rng.choice('eE')}{rng.choice(['', '+', '-'])}{rng.randint(0, 30)}"
    return f"{rng.randint(1, 9)}.{rng.randint(0, 9)}e{rng.randint(1, 9)}"


def _expr(rng: random.Random, depth: int) -> str:
    sp = lambda: rng.choice(["", " ", " "])  # noqa: E731
    if depth <= 0 or rng.random() < 0.25:
        return _number(rng) if rng.random() < 0.6 else rng.choice(_VARS)
    k = rng.randint(0, 9)
    if k <= 4:
        op = rng.choice(["+", "-", "*", "/", "%", "+", "*"])
        s = sp()
        return f"{_expr(rng, depth - 1)}{s}{op}{s}{_expr(rng, depth - 1)}"
    if k == 5:
        return f"({sp()}{_expr(rng, depth - 1)}{sp()})"
    if k == 6:
        return rng.choice(["-", "+", "- "]) + _expr(rng, depth - 1)
    if k == 7:
        base = rng.choice([_number(rng), rng.choice(_VARS), f"({_expr(rng, depth - 1)})"])
        return f"{base}{sp()}**{sp()}{_expr(rng, depth - 2)}"
    args = [_expr(rng, depth - 2) for _ in range(rng.randint(0, 3))]
    return f"{rng.choice(_FUNCS)}({(',' + sp()).join(args)})"


def arithmetic_inputs(n: int) -> tuple[list[str], list[str]]:
    rng = random.Random(20240917)
    out: list[str] = []
    while len(out) < n:
        s = _expr(rng, rng.randint(2, 5))
        if 3 <= len(s) <= 200 and s not in out:
            out.append(s)
    return out, ["generated from seed 20240917 (numbers, names, calls, unary signs, **, parentheses)"]


# xgrammar's EBNF has no lexer: the whitespace that Lark's ``%ignore WS`` skips is written between tokens.
ARITHMETIC_EBNF = r"""
root ::= ws sum ws
sum ::= product (ws [+\-] ws product)*
product ::= unary (ws [*/%] ws unary)*
unary ::= [\-+] ws unary | power
power ::= atom (ws "**" ws unary)?
atom ::= number | name | name ws "(" ws (sum (ws "," ws sum)*)? ws ")" | "(" ws sum ws ")"
number ::= ([0-9]+ ("." [0-9]*)? | "." [0-9]+) ([eE] [+\-]? [0-9]+)?
name ::= [A-Za-z_] [A-Za-z_0-9]*
ws ::= [ \t\r\n]*
"""


@dataclass
class Case:
    name: str
    text: str                  # the Lark grammar
    strings: list[str]
    notes: list[str]
    tokens: list[list[int]] = field(default_factory=list)


def build_cases(tokenizer: Any, counts: dict[str, int], only: list[str]) -> list[Case]:
    cases: list[Case] = []
    for name in only:
        text = (GRAMMAR_DIR / GRAMMAR_FILES[name]).read_text()
        if name == "json":
            strings, notes = json_inputs(counts[name])
        elif name == "sql":
            strings, notes = select_sql_in_subprocess(counts[name])
        else:
            strings, notes = arithmetic_inputs(counts[name])
        tokens = [tokenizer.encode(s, add_special_tokens=False) for s in strings]
        for s, ids in zip(strings, tokens):
            if tokenizer.decode(ids) != s:
                raise AssertionError(f"{name}: {s!r} does not round-trip through the tokenizer")
        cases.append(Case(name, text, strings, notes, tokens))
    return cases


# --------------------------------------------------------------------------- grammar adapters

class GrammarAdapter:
    """A grammar front end over one of the vocabulary-level engines of ``peers.py``."""

    name = ""
    notes = ""

    def __init__(self, base: Engine) -> None:
        self.base = base
        self.version = base.version

    @property
    def size(self) -> int:
        return self.base.size

    def compile(self, case: Case) -> Any:
        raise NotImplementedError

    def matcher(self, compiled: Any) -> EngineMatcher:
        raise NotImplementedError

    def warm_up(self) -> None:
        tiny = Case("warm-up", 'start: "[" NUMBER ("," NUMBER)* "]"\nNUMBER: /[0-9]+/\n', [], [])
        self.matcher(self.compile(tiny)).fill()

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        return {}


class _OursGrammarMatcher(EngineMatcher):
    def __init__(self, m: Any) -> None:
        from constrain.mask.grammar_matcher import _key

        self.m = m
        self.fill = m.mask
        self._key = _key

    def advance(self, token_id: int) -> None:
        self.m.advance(token_id)

    def is_accepting(self) -> bool:
        return bool(self.m.is_accepting())

    def state_is_cached(self) -> bool:
        m = self.m
        if m._finished_at is not None:
            return True
        return self._key(m._stack[-1]) in m.cache._masks


class OursGrammar(GrammarAdapter):
    name = "ours"
    notes = ("constrain.grammar(text) (dynamic lexing); masks memoized per hypothesis set and shared by "
             "matchers of one constraint")

    def warm_up(self) -> None:
        self.base.c.regex(r"\d\w\s")  # type: ignore[attr-defined]
        super().warm_up()

    def compile(self, case: Case) -> Any:
        self.base.c.compile_cache.clear()  # type: ignore[attr-defined]  # measure compiling, not reuse
        with engine_env(self.base.engine):  # type: ignore[attr-defined]
            return self.base.c.grammar(case.text)  # type: ignore[attr-defined]

    def matcher(self, compiled: Any) -> _OursGrammarMatcher:
        return _OursGrammarMatcher(compiled.matcher(self.base.vocab))  # type: ignore[attr-defined]

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        cache = compiled._caches.get(self.base.vocab)  # type: ignore[attr-defined]
        dfa = compiled.engine.dfa
        states = getattr(dfa, "num_states", None)
        if callable(states):
            states = states()
        info: dict[str, Any] = {"lexer_dfa_states": states, "terminals": len(compiled.engine.lexer.names)}
        if cache is not None:
            info.update(masks_cached=len(cache._masks), mask_cache_bytes=int(cache._bytes))
        return info


class LlguidanceGrammar(GrammarAdapter):
    name = "llguidance"
    notes = ("LLMatcher(grammar_from('lark', text)), the Lark text unchanged; the grammar is compiled when "
             "the matcher is built (counted in first mask); masks via unsafe_compute_mask_ptr")

    def compile(self, case: Case) -> str:
        return self.base.llg.grammar_from("lark", case.text)  # type: ignore[attr-defined]

    def matcher(self, compiled: str) -> EngineMatcher:
        from peers import _LlgMatcher

        return _LlgMatcher(self.base.llg, self.base.lltok, compiled, self.size)  # type: ignore[attr-defined]


class XgrammarLark(GrammarAdapter):
    name = "xgrammar"
    notes = "GrammarCompiler(max_threads=1, cache_enabled=False).compile_lark(text), the Lark text unchanged"

    def compile(self, case: Case) -> Any:
        return self.base.compiler.compile_lark(case.text)  # type: ignore[attr-defined]

    def matcher(self, compiled: Any) -> EngineMatcher:
        from peers import _XgrMatcher

        return _XgrMatcher(self.base.xgr, compiled, self.size)  # type: ignore[attr-defined]

    def describe_compiled(self, compiled: Any) -> dict[str, Any]:
        try:
            return {"compiled_bytes": int(compiled.memory_size_bytes)}
        except Exception:
            return {}


class XgrammarNative(XgrammarLark):
    name = "xgrammar-ebnf"
    notes = ("xgrammar's own forms: compile_builtin_json_grammar() for JSON, the hand-written ARITHMETIC_EBNF "
             "via compile_grammar; SQL not translated")

    def warm_up(self) -> None:
        self.matcher(self.base.compiler.compile_grammar('root ::= "[" [0-9]+ ("," [0-9]+)* "]"')).fill()  # type: ignore[attr-defined]

    def compile(self, case: Case) -> Any:
        compiler = self.base.compiler  # type: ignore[attr-defined]
        if case.name == "json":
            return compiler.compile_builtin_json_grammar()
        if case.name == "arithmetic":
            return compiler.compile_grammar(ARITHMETIC_EBNF)
        raise EngineUnavailable("no EBNF translation of sqlite.lark (the Lark text itself runs in the "
                                "`xgrammar` column through compile_lark)")


class OursPythonGrammar(OursGrammar):
    name = "ours-python"
    notes = "as ours, on the Python reference engine (CONSTRAIN_ENGINE=python)"


_BASES = {"ours": "ours", "ours-python": "ours-python", "llguidance": "llguidance", "xgrammar": "xgrammar", "xgrammar-ebnf": "xgrammar"}
_ADAPTERS: dict[str, type[GrammarAdapter]] = {"ours": OursGrammar, "ours-python": OursPythonGrammar, "llguidance": LlguidanceGrammar,
                                               "xgrammar": XgrammarLark, "xgrammar-ebnf": XgrammarNative}


def load_adapters(names: list[str], skipped: dict[str, str]) -> list[GrammarAdapter]:
    """Adapters for ``names``; the two xgrammar columns share one tokenizer info and compiler."""
    bases: dict[str, Engine] = {}
    out: list[GrammarAdapter] = []
    for name in names:
        if name not in _ADAPTERS:
            skipped[name] = f"unknown engine; choose from {', '.join(ENGINE_CHOICES)}"
            continue
        base_name = _BASES[name]
        try:
            if base_name not in bases:
                bases[base_name] = load_engine(base_name)
            out.append(_ADAPTERS[name](bases[base_name]))
        except EngineUnavailable as exc:
            skipped[name] = str(exc)
    return out


# --------------------------------------------------------------------------- measurement

@dataclass
class GrammarRun:
    ttfm_s: list[float]
    compile_s: list[float]
    first_mask_s: list[float]
    mask_s: list[float]
    cold: list[bool]
    advance_s: list[float]
    string_of_step: list[int]
    steps: list[np.ndarray]
    where: list[tuple[int, int]]
    failures: list[str]
    info: dict[str, Any]
    compiled: Any = None
    walk_s: float = 0.0
    inputs_walked: int = 0


def run_case(engine: GrammarAdapter, case: Case, ttfm_reps: int, keep_steps: bool,
             max_walk_s: float = float("inf")) -> GrammarRun:
    """Time to first mask (``ttfm_reps`` fresh constraints; the last one is walked), then the walk.

    The walk stops after the input during which ``max_walk_s`` ran out (very slow engines).
    """
    failures: list[str] = []
    ttfm: list[float] = []
    comp_s: list[float] = []
    first_s: list[float] = []
    compiled: Any = None
    first: Any = None
    size = engine.size
    perf = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for rep in range(ttfm_reps):
            t0 = perf()
            compiled = engine.compile(case)
            t1 = perf()
            first = engine.matcher(compiled)
            first.fill()
            t2 = perf()
            ttfm.append((t2 - t0) / 1e9)
            comp_s.append((t1 - t0) / 1e9)
            first_s.append((t2 - t1) / 1e9)
            if rep == 0 and ttfm[0] > 1.0:
                break  # slow engines: one sample is enough
    finally:
        gc.enable()
    log = WalkLog()
    eos = getattr(engine, "eos_id", None)
    walk_start = time.perf_counter()
    walked = 0
    for s_index, (text, ids) in enumerate(zip(case.strings, case.tokens)):
        if time.perf_counter() - walk_start > max_walk_s:
            break
        walked += 1
        m = first if s_index == 0 else engine.matcher(compiled)
        walk_input(log, m, text, ids, s_index, size, eos, keep_steps)
    walk_s = time.perf_counter() - walk_start
    info = engine.describe_compiled(compiled) if compiled is not None else {}
    return GrammarRun(ttfm, comp_s, first_s, log.mask_s, log.cold, log.advance_s, log.string_of_step, log.steps,
                      log.where, failures + log.failures, info, compiled, walk_s, walked)


def run_trials(engine: GrammarAdapter, case: Case, trials: int, ttfm_reps: int, max_walk_s: float) -> GrammarRun:
    """``trials`` independent runs (fresh constraints); per-step times are the median over trials.

    One trial only where the first walk took over 20 s or was cut short; at most 2 where the first
    mask took over 1 s.
    """
    first = run_case(engine, case, ttfm_reps, keep_steps=True, max_walk_s=max_walk_s)
    if first.ttfm_s[0] > 1.0:
        trials = min(trials, 2)
    if first.walk_s > 20.0 or first.inputs_walked < len(case.strings):
        trials = 1
    extra = [run_case(engine, case, 1, keep_steps=False, max_walk_s=max_walk_s) for _ in range(trials - 1)]
    same = [r for r in extra if len(r.mask_s) == len(first.mask_s)]
    if same:
        first.mask_s = np.median(np.array([first.mask_s] + [r.mask_s for r in same]), axis=0).tolist()
        if all(len(r.advance_s) == len(first.advance_s) for r in same):
            first.advance_s = np.median(np.array([first.advance_s] + [r.advance_s for r in same]),
                                        axis=0).tolist()
    first.ttfm_s += [r.ttfm_s[0] for r in extra]
    first.compile_s += [r.compile_s[0] for r in extra]
    first.first_mask_s += [r.first_mask_s[0] for r in extra]
    for r in extra:
        first.failures += [f for f in r.failures if f not in first.failures]
    return first


def complete(run: GrammarRun, case: Case) -> bool:
    """Whether the walk covered every input with no failure (else its per-mask figures are partial)."""
    return not run.failures and run.inputs_walked == len(case.strings)


def first_string_steps(run: GrammarRun) -> list[float]:
    return [t for t, s in zip(run.mask_s, run.string_of_step) if s == 0]


# --------------------------------------------------------------------------- memory (subprocess per engine)

def memory_worker(name: str, counts: dict[str, int], grammars: list[str], cpu: int, max_walk_s: float) -> None:
    pin_cpu(cpu)
    skipped: dict[str, str] = {}
    adapters = load_adapters([name], skipped)
    if not adapters:
        raise SystemExit(f"{name}: {skipped.get(name)}")
    engine = adapters[0]
    tokenizer = load_tokenizer()
    limit_torch_threads()
    cases = build_cases(tokenizer, counts, grammars)
    gc.collect()
    base_peak, base_rss = hwm_mb(), rss_now_mb()
    hwm_reset = reset_peak_rss()
    engine.base.setup(tokenizer)
    engine.eos_id = int(tokenizer.eos_token_id)  # type: ignore[attr-defined]
    engine.warm_up()
    after_setup_peak, after_setup_rss = hwm_mb(), rss_now_mb()
    failures = 0
    per_case: dict[str, float] = {}
    for case in cases:
        try:
            run = run_case(engine, case, 1, keep_steps=False, max_walk_s=max_walk_s)
        except EngineUnavailable:
            continue
        failures += len(run.failures)
        per_case[case.name] = rss_now_mb() - base_rss
    gc.collect()
    print(json.dumps({
        "engine": name, "baseline_peak_mb": base_peak, "baseline_rss_mb": base_rss,
        "setup_peak_mb": after_setup_peak, "setup_rss_mb": after_setup_rss,
        "final_peak_mb": hwm_mb(), "ru_maxrss_mb": maxrss_mb(), "final_rss_mb": rss_now_mb(), "failures": failures,
        "hwm_reset": hwm_reset, "peak_since_baseline_mb": hwm_mb() if hwm_reset else float("nan"),
        "rss_growth_after_case_mb": per_case,
    }))


def measure_memory(name: str, counts: dict[str, int], grammars: list[str], cpu: int,
                   max_walk_s: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--memory-worker", name, "--cpu", str(cpu),
           "--max-walk-s", str(max_walk_s),
           "--grammars", ",".join(grammars)] + [f"--{g}-inputs={counts[g]}" for g in GRAMMAR_NAMES]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=str(ROOT))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"engine": name, "error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1])


# --------------------------------------------------------------------------- comparison

def compare_steps(ours: GrammarRun, peer: GrammarRun, case: Case, tokenizer: Any, size: int) -> dict[str, Any]:
    """Differences between our allowed sets and a peer's at every step both walks reached."""
    theirs = dict(zip(peer.where, peer.steps))
    pairs = [(a, theirs[w], w) for a, w in zip(ours.steps, ours.where) if w in theirs]
    differing = only_ours = only_peer = 0
    examples: list[str] = []
    for a_packed, b_packed, (si, pos) in pairs:
        a = np.unpackbits(a_packed)[:size].astype(bool)
        b = np.unpackbits(b_packed)[:size].astype(bool)
        if np.array_equal(a, b):
            continue
        differing += 1
        oa, ob = np.flatnonzero(a & ~b), np.flatnonzero(b & ~a)
        only_ours += oa.size
        only_peer += ob.size
        if len(examples) < 3:
            prefix = tokenizer.decode(case.tokens[si][:pos])
            show = lambda ids: ", ".join(repr(tokenizer.decode([int(i)])) for i in ids[:4])  # noqa: E731
            examples.append(f"after {prefix[-50:]!r}: ours-only {oa.size} [{show(oa)}]; "
                            f"peer-only {ob.size} [{show(ob)}]")
    return {"steps": len(pairs), "steps_differing": differing, "ours_only_tokens": only_ours,
            "peer_only_tokens": only_peer, "examples": examples}


# --------------------------------------------------------------------------- profile

def profile_ours(case: Case, engine: GrammarAdapter, top: int = 25) -> None:
    """cProfile of our time to first mask and of one walk over the inputs (fresh constraint)."""
    import cProfile
    import pstats

    print(f"## Profile, ours / {case.name}: compile + first mask\n")
    prof = cProfile.Profile()
    prof.enable()
    compiled = engine.compile(case)
    m = engine.matcher(compiled)
    m.fill()
    prof.disable()
    pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(top)
    print(f"## Profile, ours / {case.name}: walking the {len(case.strings)} inputs (same constraint)\n")
    prof = cProfile.Profile()
    prof.enable()
    for s_index, ids in enumerate(case.tokens):
        mm = m if s_index == 0 else engine.matcher(compiled)
        for tid in ids:
            mm.fill()
            mm.advance(tid)
        mm.fill()
    prof.disable()
    pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(top)


# --------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engines", default=",".join(ENGINE_CHOICES),
                    help=f"comma-separated subset of {','.join(ENGINE_CHOICES)} (default: all available)")
    ap.add_argument("--grammars", default=",".join(GRAMMAR_NAMES),
                    help=f"comma-separated subset of {','.join(GRAMMAR_NAMES)}")
    ap.add_argument("--json-inputs", type=int, default=22, help="JSON documents (default 22)")
    ap.add_argument("--sql-inputs", type=int, default=30, help="GeoQuery gold queries (default 30)")
    ap.add_argument("--arithmetic-inputs", type=int, default=20, help="arithmetic expressions (default 20)")
    ap.add_argument("--ttfm-reps", type=int, default=3,
                    help="fresh constraints timed per grammar for time to first mask (first one is reported)")
    ap.add_argument("--trials", type=int, default=3,
                    help="independent runs per grammar and engine; per-step mask times are their median")
    ap.add_argument("--max-walk-s", type=float, default=60.0,
                    help="stop an engine's walk over a grammar's inputs after the input during which this many "
                         "seconds ran out (default 60; the cut is reported)")
    ap.add_argument("--cpu", type=int, default=1, help="CPU to pin to; -1 leaves affinity alone (default 1)")
    ap.add_argument("--no-memory", action="store_true", help="skip the per-engine memory subprocesses")
    ap.add_argument("--quick", action="store_true", help="smoke run: 3 inputs per grammar, 1 rep, 1 trial, no memory")
    ap.add_argument("--profile", action="store_true", help="also print a cProfile of ours per grammar")
    ap.add_argument("--json", metavar="PATH", help="also write the raw numbers here")
    ap.add_argument("--memory-worker", metavar="ENGINE", help=argparse.SUPPRESS)
    ap.add_argument("--select-sql", type=int, metavar="N", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.select_sql:
        select_sql_worker(args.select_sql)
        return 0

    grammars = [g.strip() for g in args.grammars.split(",") if g.strip()]
    for g in grammars:
        if g not in GRAMMAR_NAMES:
            ap.error(f"unknown grammar {g!r}; choose from {', '.join(GRAMMAR_NAMES)}")
    if args.quick:
        args.json_inputs = args.sql_inputs = args.arithmetic_inputs = 3
        args.ttfm_reps, args.trials, args.no_memory = 1, 1, True
    counts = {"json": args.json_inputs, "sql": args.sql_inputs, "arithmetic": args.arithmetic_inputs}
    if args.memory_worker:
        memory_worker(args.memory_worker, counts, grammars, args.cpu, args.max_walk_s)
        return 0

    pinned = pin_cpu(args.cpu)
    skipped: dict[str, str] = {}
    engines = load_adapters([e.strip() for e in args.engines.split(",") if e.strip()], skipped)
    t0 = time.perf_counter()
    tokenizer = load_tokenizer()
    t_tok = time.perf_counter() - t0
    limit_torch_threads()
    t0 = time.perf_counter()
    cases = build_cases(tokenizer, counts, grammars)
    t_cases = time.perf_counter() - t0

    setups: dict[str, dict[str, float]] = {}
    done_bases: dict[int, dict[str, float]] = {}
    ready: list[GrammarAdapter] = []
    for engine in engines:
        try:
            if id(engine.base) not in done_bases:
                done_bases[id(engine.base)] = engine.base.setup(tokenizer)
            setups[engine.name] = done_bases[id(engine.base)]
            engine.eos_id = int(tokenizer.eos_token_id)  # type: ignore[attr-defined]
            engine.warm_up()
            ready.append(engine)
        except Exception as exc:
            skipped[engine.name] = f"setup failed: {exc!r}"
    engines = ready
    limit_torch_threads()
    for name, reason in skipped.items():
        print(f"skipping {name}: {reason}", file=sys.stderr)
    names = [e.name for e in engines]

    runs: dict[str, dict[str, GrammarRun]] = {n: {} for n in names}
    errors: dict[str, dict[str, str]] = {n: {} for n in names}
    unsupported: dict[str, dict[str, str]] = {n: {} for n in names}
    for case in cases:
        for engine in engines:
            try:
                runs[engine.name][case.name] = run_trials(engine, case, args.trials, args.ttfm_reps,
                                                          args.max_walk_s)
            except EngineUnavailable as exc:
                unsupported[engine.name][case.name] = str(exc)
            except Exception as exc:
                errors[engine.name][case.name] = f"{type(exc).__name__}: {exc}"

    memory: dict[str, dict[str, Any]] = {}
    if not args.no_memory:
        for name in names:
            memory[name] = measure_memory(name, counts, grammars, args.cpu, args.max_walk_s)

    # ---------------- report
    print(f"# Grammar masks on the Llama-3 vocabulary ({engines[0].size if engines else '?'} ids), one core\n")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, {pinned}; engines: "
          + ", ".join(f"{e.name} {e.version}" for e in engines))
    print(f"Tokenizer load {t_tok:.1f} s and input selection {t_cases:.1f} s, not counted. Time to first mask: "
          f"the first fresh constraint of each grammar in this process, after a warm-up that compiles and masks "
          f"a tiny grammar per engine. Time per mask: per step the median over {args.trials} independent "
          f"trials (fresh constraints; 2 at most where the first mask took over 1 s), then mean/p50/p99/max over "
          f"all steps. Engines run interleaved per grammar; the machine is shared and busy, so compare engines "
          f"within one run (ratios below are from this run).\n")
    for name, reason in skipped.items():
        print(f"- **{name} skipped**: {reason}")
    for e in engines:
        if e.notes:
            print(f"- {e.name}: {e.notes}")
    print()
    print("## Inputs\n")
    rows = []
    for case in cases:
        ntok = [len(t) for t in case.tokens]
        rows.append([case.name, GRAMMAR_FILES[case.name], str(len(case.strings)),
                     f"{min(len(s) for s in case.strings)}..{max(len(s) for s in case.strings)}",
                     f"{sum(ntok)}", f"{min(ntok)}..{max(ntok)}"])
    print(table(["grammar", "file", "inputs", "chars", "tokens", "tokens per input"], rows) + "\n")
    for case in cases:
        for note in case.notes:
            print(f"- {case.name}: {note}")
        print(f"- {case.name}, first input: {case.strings[0][:200]!r}")
    print()

    rows = []
    for e in engines:
        phases = setups[e.name]
        detail = ", ".join(f"{k} {v * 1e3:,.0f} ms" for k, v in phases.items())
        rows.append([e.name, f"{sum(phases.values()) * 1e3:,.0f}", detail])
    print("## Vocabulary setup (once per vocabulary; excluded below)\n")
    print(table(["engine", "total ms", "phases"], rows) + "\n")

    def cell(name: str, case: Case, fn: Callable[[GrammarRun], str], per_mask: bool = True) -> str:
        if case.name in errors[name]:
            return "error"
        if case.name in unsupported[name]:
            return "n/a"
        run = runs[name].get(case.name)
        if run is None:
            return "-"
        return fn(run) + ("" if complete(run, case) or not per_mask else " (p)")

    metrics: list[tuple[str, Callable[[GrammarRun], str]]] = [
        ("Time to first mask (ms): compile + matcher + first mask", lambda r: fmt(r.ttfm_s[0] * 1e3, 2)),
        ("  of which compile (ms)", lambda r: fmt(r.compile_s[0] * 1e3, 2)),
        ("  of which matcher + first mask (ms)", lambda r: fmt(r.first_mask_s[0] * 1e3, 2)),
        ("Time per mask, mean over the first input only (us)", lambda r: fmt(stats_us(first_string_steps(r))["mean"])),
        ("Time per mask, mean over all inputs (us)", lambda r: fmt(stats_us(r.mask_s)["mean"])),
        ("Time per mask, p50 (us)", lambda r: fmt(stats_us(r.mask_s)["p50"])),
        ("Time per mask, p99 (us)", lambda r: fmt(stats_us(r.mask_s)["p99"])),
        ("Time per mask, max (us)", lambda r: fmt(stats_us(r.mask_s)["max"])),
    ]
    for title, fn in metrics:
        print(f"## {title.strip()}\n")
        rows = [[case.name] + [cell(n, case, fn, title.startswith("Time per mask")) for n in names] for case in cases]
        print(table(["grammar"] + names, rows) + "\n")
    print("`n/a`: not run (see correctness); `(p)`: partial -- the walk stopped early on a failure or on "
          "--max-walk-s, so the figure covers only the masks reached (listed under correctness).\n")

    if len(names) > 1 and "ours" in names:
        print("## Ratios, peer / ours, same run (above 1: we are faster)\n")
        heads = ["grammar"]
        for n in names:
            if n != "ours":
                heads += [f"{n} TTFM", f"{n} mean", f"{n} p99"]
        rows = []
        for case in cases:
            o = runs["ours"].get(case.name)
            row = [case.name]
            for n in names:
                if n == "ours":
                    continue
                p = runs[n].get(case.name)
                if o is None or p is None:
                    row += ["-", "-", "-"]
                    continue
                if not (complete(o, case) and complete(p, case)):
                    row += [f"{p.ttfm_s[0] / o.ttfm_s[0]:.2f}", "(p)", "(p)"]
                    continue
                so, sp = stats_us(o.mask_s), stats_us(p.mask_s)
                row += [f"{p.ttfm_s[0] / o.ttfm_s[0]:.2f}", f"{sp['mean'] / so['mean']:.2f}",
                        f"{sp['p99'] / so['p99']:.2f}"]
            rows.append(row)
        print(table(heads, rows) + "\n")

    if "ours" in runs:
        print(f"## Ours against the targets (TTFM <= {TARGET_TTFM_MS:g} ms, mean <= {TARGET_MEAN_US:g} us, "
              f"p99 <= {TARGET_P99_US:g} us), and where the time goes\n")
        rows = []
        for case in cases:
            r = runs["ours"].get(case.name)
            if r is None:
                continue
            st = stats_us(r.mask_s)
            cold = [t for t, c in zip(r.mask_s, r.cold) if c]
            warm = [t for t, c in zip(r.mask_s, r.cold) if not c]
            cs, ws = stats_us(cold), stats_us(warm)
            first_cold = sum(c for c, s in zip(r.cold, r.string_of_step) if s == 0)
            first_n = sum(1 for s in r.string_of_step if s == 0)
            reps = sorted(r.ttfm_s)
            rows.append([
                case.name,
                fmt(r.ttfm_s[0] * 1e3, 2) + (" ok" if r.ttfm_s[0] * 1e3 <= TARGET_TTFM_MS else " MISS"),
                fmt(reps[len(reps) // 2] * 1e3, 2),
                fmt(st["mean"]) + (" ok" if st["mean"] <= TARGET_MEAN_US else " MISS"),
                fmt(st["p99"]) + (" ok" if st["p99"] <= TARGET_P99_US else " MISS"),
                f"{first_cold}/{first_n}", f"{len(cold)}/{len(r.mask_s)}",
                fmt(cs["mean"]), fmt(cs["max"]), fmt(ws["mean"], 2),
                str(r.info.get("lexer_dfa_states", "-")),
                f"{r.info.get('mask_cache_bytes', 0) / 2**20:.1f}",
            ])
        print(table(["grammar", "TTFM ms", "TTFM median of reps", "mean us", "p99 us",
                     "computed, first input", "computed, all", "computed mean us", "computed max us",
                     "memo hit mean us", "lexer DFA states", "mask memo MB"], rows) + "\n")
        print("`computed`: steps whose mask was not in the memo (a new hypothesis set); the rest are memo "
              "hits. The first input starts with an empty memo; later inputs reuse the masks of earlier ones.\n")

    print("## Correctness: every token allowed, end-of-sequence allowed at the end, masks compared with ours\n")
    ours_problems = 0
    for n in names:
        for case in cases:
            if case.name in unsupported[n]:
                print(f"- {n} / {case.name}: not run ({unsupported[n][case.name]})")
            if case.name in errors[n]:
                ours_problems += n == "ours"
                print(f"- **{n} / {case.name}: ERROR** {errors[n][case.name]}")
                continue
            r = runs[n].get(case.name)
            if r is None:
                continue
            if r.inputs_walked < len(case.strings):
                print(f"- {n} / {case.name}: walk cut after {r.inputs_walked} of {len(case.strings)} inputs "
                      f"({r.walk_s:.0f} s > --max-walk-s); its per-mask figures cover {len(r.mask_s)} masks")
            ours_problems += len(r.failures) if n == "ours" else 0
            for f in r.failures[:3]:
                print(f"- **{n} / {case.name}: FAILED ON A VALID INPUT** {f}")
            if len(r.failures) > 3:
                print(f"- **{n} / {case.name}**: ... and {len(r.failures) - 3} more failures "
                      f"({len(r.failures)} of {len(case.strings)} inputs)")
    comparisons: dict[str, dict[str, Any]] = {}
    if "ours" in runs:
        size = engines[names.index("ours")].size
        for n in names:
            if n == "ours":
                continue
            width = min(size, engines[names.index(n)].size)
            for case in cases:
                o, p = runs["ours"].get(case.name), runs[n].get(case.name)
                if o is None or p is None:
                    continue
                cmp = compare_steps(o, p, case, tokenizer, width)
                comparisons.setdefault(n, {})[case.name] = cmp
                if cmp["steps_differing"]:
                    print(f"- ours vs {n} / {case.name}: {cmp['steps_differing']} of {cmp['steps']} steps differ "
                          f"({cmp['ours_only_tokens']} token-steps allowed only by ours, "
                          f"{cmp['peer_only_tokens']} only by {n})")
                    for ex in cmp["examples"]:
                        print(f"  - {ex}")
                else:
                    print(f"- ours vs {n} / {case.name}: identical masks at all {cmp['steps']} steps")
    print()

    if memory:
        print("## Peak memory per engine (each in its own subprocess, all selected grammars)\n")
        rows = []
        for n in names:
            m = memory[n]
            if "error" in m:
                rows.append([n, "error: " + m["error"], "", "", "", ""])
                continue
            peak = m["peak_since_baseline_mb"] if m.get("hwm_reset") else m["final_peak_mb"]
            over = peak - (m["baseline_rss_mb"] if m.get("hwm_reset") else m["baseline_peak_mb"])
            growth = ", ".join(f"{k} {v:.0f}" for k, v in m.get("rss_growth_after_case_mb", {}).items())
            rows.append([n, fmt(m["baseline_rss_mb"]), fmt(peak), fmt(over),
                         fmt(m["setup_rss_mb"] - m["baseline_rss_mb"]), growth])
        print(table(["engine", "baseline RSS", "peak RSS after baseline", "peak over baseline",
                     "RSS growth, setup", "RSS growth after each grammar"], rows))
        print("\nAll MB, RSS as the kernel counts it. Baseline: after imports, the tokenizer load and input "
              "selection; the peak mark is then reset (/proc/self/clear_refs), so `peak over baseline` covers "
              "the engine's vocabulary setup, compiles and walks. For xgrammar-ebnf the subprocess does its own "
              "xgrammar setup.\n")

    if args.profile and "ours" in names:
        ours = engines[names.index("ours")]
        for case in cases:
            profile_ours(case, ours)

    if args.json:
        dump = {
            "python": platform.python_version(), "pinned": pinned, "counts": counts,
            "engines": {e.name: {"version": e.version, "setup_s": setups[e.name]} for e in engines},
            "skipped": skipped,
            "grammars": {c.name: {"file": GRAMMAR_FILES[c.name], "inputs": c.strings, "tokens": c.tokens,
                                  "notes": c.notes} for c in cases},
            "runs": {n: {k: {"ttfm_s": r.ttfm_s, "compile_s": r.compile_s, "first_mask_s": r.first_mask_s,
                             "mask_s": r.mask_s, "cold": r.cold, "string_of_step": r.string_of_step,
                             "advance_s": r.advance_s, "failures": r.failures, "info": r.info,
                             "mask_us": stats_us(r.mask_s), "first_input_mask_us": stats_us(first_string_steps(r))}
                         for k, r in runs[n].items()} for n in names},
            "errors": errors, "unsupported": unsupported, "comparisons": comparisons, "memory": memory,
        }
        Path(args.json).write_text(json.dumps(dump, indent=1))
        print(f"raw numbers written to {args.json}")
    return 1 if ours_problems else 0


if __name__ == "__main__":
    sys.exit(main())
