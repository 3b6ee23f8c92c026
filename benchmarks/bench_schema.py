"""Benchmark: JSON Schema token masks on MaskBench (maskbench-dev), constrain vs peer engines, one core.

Schemas come from ``../shared/data/maskbench-dev/*.jsonl`` (read as ``schema_conformance.py`` reads
them; every ``--sample``-th line of each file). For each schema and engine it measures:

* time to first mask -- compile the schema, make a matcher, compute the first mask (after a per-process
  warm-up that compiles and masks a tiny schema); p50 / p90 / p99 over the schemas that compiled;
* time per mask      -- every mask computed while walking the tokenized *valid* instances token by token
  (the mask before each token and the final one; one compiled constraint, a fresh matcher per
  instance); mean / p50 / p99 / max over all those masks;
* counts             -- compiled, refused or errored, timeouts (compile + first mask over ``--seconds``),
  walk timeouts (all instance walks of one schema together over ``--seconds``), valid instances
  rejected (some token not allowed by the mask, or end-of-sequence not allowed at the end), invalid
  instances accepted (every token allowed and end-of-sequence allowed at the end);
* peak memory        -- each engine runs in its own worker subprocess; its peak RSS (VmHWM) after the
  baseline (imports + tokenizer), maximum over the worker's restarts.

Time limits work for native code: each engine runs in a worker subprocess (pinned to one core) that
the parent kills when a schema overruns ``--seconds`` (plus a small grace); the worker is then
restarted for the next schema. Inside the worker a SIGALRM at ``--seconds`` also stops Python-level
work early. A worker whose RSS passes ``--max-rss-mb`` is killed the same way (counted as ``oom``).

Instance text (the Llama-3 tokenization of it is what each engine walks):

* ours   -- ``constraint.dumps(data)``: our canonical compact form (no whitespace, keys in the
  constraint's property order, unknown keys after in their order, numbers without exponent);
* peers  -- the same text, with the engines' whitespace made compact: llguidance
  ``whitespace_flexible=False, item_separator=",", key_separator=":"`` (as overrides);
  xgrammar ``compile_json_schema(any_whitespace=False, separators=(",", ":"), strict_mode=False)``;
  outlines-core ``build_regex_from_schema(whitespace_pattern="")``. Where ours refused the schema (no
  canonical order), every engine gets the data's own key order, compact, with our number format.
  When a peer rejects a valid instance the data's own key order is tried as well (untimed) and
  reported as ``rejected, accepted in data order`` -- key order, not value checks, caused those.

Usage (from the repository root; peers live in ``/work/peers-venv``, see ``setup_peers.sh``)::

    /work/peers-venv/bin/python benchmarks/bench_schema.py --sample 40
    python benchmarks/bench_schema.py --engines ours --sample 100 --json out.json
"""
from __future__ import annotations

import os

import one_thread_env  # noqa: E402,F401  (before numpy and the engines)

import argparse  # noqa: E402
import gc  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import select  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_regex import (fmt, hwm_mb, limit_torch_threads, load_tokenizer, pin_cpu,  # noqa: E402
                         reset_peak_rss, rss_now_mb, table)
from peers import EngineMatcher, EngineUnavailable, load_engine, words_to_bool  # noqa: E402
from schema_conformance import Timeout, _alarm, _short, data_dir, maskbench_files  # noqa: E402

ENGINE_CHOICES: tuple[str, ...] = ("ours", "ours-python", "llguidance", "xgrammar", "outlines")
WARM_SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}},
               "required": ["a"]}
GRACE_S = 3.0  # parent-side slack over --seconds before a worker is killed (pipe and scheduling delays)


# --------------------------------------------------------------------------- schema adapters (worker side)

class _GenericMatcher(EngineMatcher):
    def __init__(self, m: Any) -> None:
        self.m = m
        self.fill = m.mask

    def advance(self, token_id: int) -> None:
        self.m.advance(token_id)

    def is_accepting(self) -> bool:
        return bool(self.m.is_accepting())


class SchemaAdapter:
    """A JSON Schema front end over one of the vocabulary-level engines of ``peers.py``."""

    name = ""
    notes = ""

    def __init__(self, base_name: str) -> None:
        self.base = load_engine(base_name)
        self.version = self.base.version

    def setup(self, tokenizer: Any) -> dict[str, float]:
        return self.base.setup(tokenizer)

    @property
    def size(self) -> int:
        return self.base.size

    def compile(self, schema: Any) -> Any:
        raise NotImplementedError

    def matcher(self, compiled: Any) -> EngineMatcher:
        raise NotImplementedError

    def warm_up(self) -> None:
        self.matcher(self.compile(WARM_SCHEMA)).fill()


class OursSchema(SchemaAdapter):
    name = "ours"
    notes = "constrain.json_schema(schema) with default options (compact, schema property order); matcher.mask()"

    def warm_up(self) -> None:
        self.base.c.regex(r"\d\w\s")  # type: ignore[attr-defined]
        super().warm_up()

    def compile(self, schema: Any) -> Any:
        self.base.c.compile_cache.clear()  # type: ignore[attr-defined]  # measure compiling, not reuse
        return self.base.c.json_schema(schema)  # type: ignore[attr-defined]

    def matcher(self, compiled: Any) -> EngineMatcher:
        return _GenericMatcher(compiled.matcher(self.base.vocab))  # type: ignore[attr-defined]


class OursPythonSchema(OursSchema):
    """Our Python reference engine; each engine runs in its own worker process, so the variable is set for all of it."""

    name = "ours-python"
    notes = "as ours, with CONSTRAIN_ENGINE=python (the Python reference engine)"

    def __init__(self, base_name: str) -> None:
        os.environ["CONSTRAIN_ENGINE"] = "python"
        super().__init__(base_name)


class LlguidanceSchema(SchemaAdapter):
    name = "llguidance"
    notes = ("LLMatcher(grammar_from_json_schema(schema, overrides={whitespace_flexible: False, item_separator: ',', "
             "key_separator: ':'})); the grammar is compiled when the matcher is built; masks via "
             "unsafe_compute_mask_ptr")
    OPTIONS = {"whitespace_flexible": False, "item_separator": ",", "key_separator": ":"}

    def compile(self, schema: Any) -> str:
        llg = self.base.llg  # type: ignore[attr-defined]
        return llg.LLMatcher.grammar_from_json_schema(json.dumps(schema), overrides=self.OPTIONS)

    def matcher(self, compiled: str) -> EngineMatcher:
        from peers import _LlgMatcher

        return _LlgMatcher(self.base.llg, self.base.lltok, compiled, self.size)  # type: ignore[attr-defined]


class XgrammarSchema(SchemaAdapter):
    name = "xgrammar"
    notes = ("GrammarCompiler(max_threads=1, cache_enabled=False).compile_json_schema(schema, any_whitespace=False, "
             "separators=(',', ':'), strict_mode=False)")

    def compile(self, schema: Any) -> Any:
        return self.base.compiler.compile_json_schema(  # type: ignore[attr-defined]
            json.dumps(schema), any_whitespace=False, separators=(",", ":"), strict_mode=False)

    def matcher(self, compiled: Any) -> EngineMatcher:
        from peers import _XgrMatcher

        return _XgrMatcher(self.base.xgr, compiled, self.size)  # type: ignore[attr-defined]


class OutlinesSchema(SchemaAdapter):
    name = "outlines"
    notes = "Index(json_schema.build_regex_from_schema(schema, whitespace_pattern=''), vocabulary) + Guide"

    def compile(self, schema: Any) -> Any:
        from outlines_core.json_schema import build_regex_from_schema

        regex = build_regex_from_schema(json.dumps(schema), whitespace_pattern="")
        return self.base.oc.Index(regex, self.base.vocabulary)  # type: ignore[attr-defined]

    def matcher(self, compiled: Any) -> EngineMatcher:
        from peers import _OutlinesMatcher

        return _OutlinesMatcher(self.base.oc, compiled, self.size)  # type: ignore[attr-defined]


_ADAPTERS: dict[str, tuple[type[SchemaAdapter], str]] = {
    "ours": (OursSchema, "ours"), "ours-python": (OursPythonSchema, "ours-python"), "llguidance": (LlguidanceSchema, "llguidance"),
    "xgrammar": (XgrammarSchema, "xgrammar"), "outlines": (OutlinesSchema, "outlines"),
}


def load_adapter(name: str) -> SchemaAdapter:
    if name not in _ADAPTERS:
        raise EngineUnavailable(f"unknown engine {name!r}; choose from {', '.join(ENGINE_CHOICES)}")
    cls, base = _ADAPTERS[name]
    return cls(base)


# --------------------------------------------------------------------------- worker process

class _Limit:
    """SIGALRM after ``seconds`` raises :class:`Timeout` (Python code; native code notices on return)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __enter__(self) -> "_Limit":
        self.old = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: Any) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, self.old)


def walk(engine: SchemaAdapter, compiled: Any, ids: list[int], eos: int, timed: bool) -> tuple[bool, str, list[float]]:
    """Walk one tokenized text: (accepted, why not, mask times in us when ``timed``)."""
    size = engine.size
    m = engine.matcher(compiled)
    fill = m.fill
    perf = time.perf_counter_ns
    times: list[float] = []
    gc.disable()
    try:
        for pos in range(len(ids) + 1):
            t0 = perf()
            words = fill()
            t1 = perf()
            if timed:
                times.append((t1 - t0) / 1e3)
            allowed = words_to_bool(words, size)
            if pos == len(ids):
                return (True, "", times) if allowed[eos] else (False, "end-of-sequence not allowed at the end", times)
            tid = ids[pos]
            if not allowed[tid]:
                return False, f"token {pos} (id {tid}) not allowed", times
            try:
                m.advance(tid)
            except Timeout:
                raise
            except Exception as exc:
                return False, f"token {pos} (id {tid}) rejected by advance: {type(exc).__name__}", times
    finally:
        gc.enable()
    return False, "unreachable", times


def worker_main(name: str, seconds: float, cpu: int) -> int:
    """Serve schema requests (JSON lines on stdin), one result line per phase on the protocol pipe."""
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # anything a library prints goes to stderr, never into the protocol
    sys.stdout = sys.stderr

    def send(obj: dict[str, Any]) -> None:
        proto.write(json.dumps(obj) + "\n")
        proto.flush()

    pin_cpu(cpu)
    try:
        engine = load_adapter(name)
    except EngineUnavailable as exc:
        send({"ready": False, "error": str(exc)})
        return 0
    tokenizer = load_tokenizer()
    limit_torch_threads()
    eos = int(tokenizer.eos_token_id)
    gc.collect()
    baseline = {"baseline_rss_mb": rss_now_mb(), "baseline_peak_mb": hwm_mb()}
    hwm_reset = reset_peak_rss()
    try:
        t0 = time.perf_counter()
        setup = engine.setup(tokenizer)
        limit_torch_threads()
        engine.warm_up()
        t_setup = time.perf_counter() - t0
    except Exception as exc:
        send({"ready": False, "error": f"setup failed: {type(exc).__name__}: {exc}"})
        return 0
    send({"ready": True, "version": engine.version, "size": engine.size, "setup_s": setup,
          "setup_total_s": t_setup, "hwm_reset": hwm_reset, "setup_rss_mb": rss_now_mb(), **baseline})

    def tokens(text: str) -> list[int] | None:
        ids = tokenizer.encode(text, add_special_tokens=False)
        return ids if tokenizer.decode(ids) == text else None

    for line in sys.stdin:
        req = json.loads(line)
        if req.get("cmd") == "quit":
            break
        if req.get("cmd") == "stats":
            send({"peak_mb": hwm_mb(), "rss_mb": rss_now_mb()})
            continue
        schema, tests = req["schema"], req["tests"]
        compiled: Any = None
        gc.collect()
        try:
            with _Limit(seconds):
                gc.disable()
                try:
                    t0 = time.perf_counter_ns()
                    compiled = engine.compile(schema)
                    t1 = time.perf_counter_ns()
                    engine.matcher(compiled).fill()
                    t2 = time.perf_counter_ns()
                finally:
                    gc.enable()
            ttfm = (t2 - t0) / 1e9
            if ttfm > seconds:
                send({"phase": "compile", "status": "timeout", "ttfm_s": ttfm})
                continue
            send({"phase": "compile", "status": "compiled", "ttfm_s": ttfm, "compile_s": (t1 - t0) / 1e9})
        except Timeout:
            send({"phase": "compile", "status": "timeout"})
            continue
        except RecursionError as exc:
            send({"phase": "compile", "status": "refused", "reason": f"RecursionError: {str(exc)[:200]}"})
            continue
        except Exception as exc:
            send({"phase": "compile", "status": "refused", "reason": f"{type(exc).__name__}: {str(exc)[:300]}"})
            continue
        # ---- walks (valid ones timed), all together within ``seconds``
        try:
            with _Limit(seconds):
                for i, t in enumerate(tests):
                    valid = bool(t["valid"])
                    text = t.get("text")
                    if name.startswith("ours"):
                        try:
                            text = compiled.dumps(t["data"])
                        except (TypeError, ValueError) as exc:
                            send({"i": i, "skipped": f"dumps: {type(exc).__name__}"})
                            continue
                    ids = tokens(text)
                    if ids is None:
                        send({"i": i, "skipped": "text does not round-trip through the tokenizer", "text": text})
                        continue
                    ok, why, times = walk(engine, compiled, ids, eos, timed=valid)
                    out: dict[str, Any] = {"i": i, "ok": ok, "ntok": len(ids), "masks_us": times}
                    if not ok:
                        out["why"] = why
                    if name.startswith("ours"):
                        out["text"] = text
                    alt = t.get("alt_text")
                    if valid and not ok and alt and alt != text:
                        alt_ids = tokens(alt)
                        if alt_ids is not None:
                            out["alt_ok"] = walk(engine, compiled, alt_ids, eos, timed=False)[0]
                    send(out)
        except Timeout:
            send({"phase": "walk", "status": "timeout"})
            continue
        send({"phase": "walk", "status": "done"})
    send({"bye": True, "peak_mb": hwm_mb()})
    return 0


# --------------------------------------------------------------------------- parent side

def proc_status_mb(pid: int, key: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


class Worker:
    """One engine's worker subprocess, restarted after a kill."""

    def __init__(self, name: str, seconds: float, cpu: int, max_rss_mb: float, log_dir: Path) -> None:
        self.name, self.seconds, self.cpu, self.max_rss_mb = name, seconds, cpu, max_rss_mb
        self.log_path = log_dir / f"worker-{name}.log"
        self.proc: subprocess.Popen | None = None
        self.buf = b""
        self.info: dict[str, Any] = {}
        self.starts = 0
        self.peak_mb = float("nan")   # max over incarnations of VmHWM after the baseline reset
        self.start_s: list[float] = []

    def _note_peak(self, value: float) -> None:
        if value == value and not (self.peak_mb == self.peak_mb and self.peak_mb >= value):
            self.peak_mb = value

    def start(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", self.name,
               "--seconds", str(self.seconds), "--cpu", str(self.cpu)]
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=str(ROOT))
        log.close()
        self.buf = b""
        self.starts += 1
        msg = self.read(600.0)
        self.start_s.append(time.perf_counter() - t0)
        if msg is None or not msg.get("ready"):
            err = (msg or {}).get("error") or f"worker did not start ({self.tail()})"
            self.kill()
            raise EngineUnavailable(err)
        if not self.info:
            self.info = msg
        return msg

    def tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()[-3:]
            return " | ".join(lines)
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())
        self.proc.stdin.flush()

    def read(self, timeout: float) -> dict[str, Any] | None:
        """The next protocol line, or None on timeout / memory kill / exit (the worker is then dead)."""
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.perf_counter() + timeout
        self.killed_for = ""
        while b"\n" not in self.buf:
            left = deadline - time.perf_counter()
            if left <= 0:
                self.killed_for = "timeout"
                self.kill()
                return None
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if not ready:
                if proc_status_mb(self.proc.pid, "VmRSS") > self.max_rss_mb:
                    self.killed_for = "oom"
                    self.kill()
                    return None
                continue
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                self.killed_for = "exit"
                self.kill()
                return None
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def kill(self) -> None:
        if self.proc is None:
            return
        self._note_peak(proc_status_mb(self.proc.pid, "VmHWM"))
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()  # type: ignore[union-attr]
            except Exception:
                pass
        self.proc = None

    def stop(self) -> None:
        if self.alive():
            try:
                self.send({"cmd": "stats"})
                msg = self.read(30.0)
                if msg:
                    self._note_peak(msg["peak_mb"])
                self.send({"cmd": "quit"})
            except Exception:
                pass
        self.kill()

    def run_schema(self, schema: Any, tests: list[dict[str, Any]]) -> dict[str, Any]:
        """Compile + walk one schema: {'status', 'ttfm_s', 'results' {i: result}, 'walk'}."""
        if not self.alive():
            self.start()
        self.send({"cmd": "schema", "schema": schema, "tests": tests})
        msg = self.read(self.seconds + GRACE_S)
        if msg is None:
            status = "oom" if self.killed_for == "oom" else ("timeout" if self.killed_for == "timeout" else "crash")
            return {"status": status, "results": {}, "walk": "-", "reason": self.killed_for or "?"}
        out: dict[str, Any] = {"status": msg["status"], "results": {}, "walk": "-"}
        for k in ("ttfm_s", "compile_s", "reason"):
            if k in msg:
                out[k] = msg[k]
        if msg["status"] != "compiled":
            return out
        deadline = time.perf_counter() + self.seconds + GRACE_S
        while True:
            msg = self.read(max(0.1, deadline - time.perf_counter()))
            if msg is None:
                out["walk"] = "oom" if self.killed_for == "oom" else ("timeout" if self.killed_for == "timeout" else "crash")
                return out
            if msg.get("phase") == "walk":
                out["walk"] = msg["status"]
                return out
            out["results"][msg["i"]] = msg


def canonical_fallback(data: Any) -> str | None:
    """The data's own key order, compact, with our number format (used where ours gave no text)."""
    from constrain.schema.compiler import dumps

    try:
        return dumps(data, {})
    except (TypeError, ValueError):
        return None


def load_rows(sample: int, limit: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in maskbench_files(data_dir()):
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
            if not line.strip() or i % sample:
                continue
            row = json.loads(line)
            rows.append({"dataset": path.stem, "line": i, "schema": row["schema"],
                         "tests": [{"data": t["data"], "valid": bool(t["valid"])} for t in row.get("tests", [])]})
    if limit:
        rows = rows[:limit]
    return rows


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def summarize(records: list[dict[str, Any]], rows: list[dict[str, Any]], idx: list[int] | None = None) -> dict[str, Any]:
    """Counts and timing statistics over the schemas ``idx`` (default all) of one engine's records."""
    idx = list(range(len(records))) if idx is None else idx
    c: Counter = Counter()
    ttfm: list[float] = []
    masks: list[float] = []
    for k in idx:
        r, row = records[k], rows[k]
        c["schemas"] += 1
        st = r["status"]
        c[st if st in ("compiled", "timeout", "oom") else "refused"] += 1
        if st != "compiled":
            continue
        ttfm.append(r["ttfm_s"])
        if r["walk"] != "done":
            c["walk_timeout"] += 1
        for i, t in enumerate(row["tests"]):
            res = r["results"].get(i) or r["results"].get(str(i))
            kind = "valid" if t["valid"] else "invalid"
            if res is None:
                c[f"{kind}_not_walked"] += 1
                continue
            if "skipped" in res:
                c[f"{kind}_skipped"] += 1
                continue
            c[f"{kind}_walked"] += 1
            if t["valid"]:
                masks += res["masks_us"]
                if not res["ok"]:
                    c["valid_rejected"] += 1
                    if res.get("alt_ok"):
                        c["valid_rejected_alt_ok"] += 1
            elif res["ok"]:
                c["invalid_accepted"] += 1
    a = np.asarray(masks)
    return {
        "counts": dict(c),
        "ttfm_ms": {"n": len(ttfm), "p50": pct(ttfm, 50) * 1e3, "p90": pct(ttfm, 90) * 1e3, "p99": pct(ttfm, 99) * 1e3},
        "mask_us": {"n": int(a.size), "mean": float(a.mean()) if a.size else float("nan"), "p50": pct(masks, 50),
                    "p99": pct(masks, 99), "max": float(a.max()) if a.size else float("nan")},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sample", type=int, default=20, help="keep every N-th schema of each file (default 20)")
    ap.add_argument("--limit", type=int, default=0, help="stop after this many schemas (0: all sampled)")
    ap.add_argument("--engines", default=",".join(ENGINE_CHOICES),
                    help="comma-separated subset of: " + ",".join(ENGINE_CHOICES))
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="time limit per schema for compile + first mask, and again for all its walks (default 10)")
    ap.add_argument("--max-rss-mb", type=float, default=6000.0, help="kill a worker whose RSS passes this (default 6000)")
    ap.add_argument("--cpu", type=int, default=1, help="CPU to pin to; -1 leaves affinity alone (default 1)")
    ap.add_argument("--json", metavar="PATH", help="also write the raw numbers here")
    ap.add_argument("--worker", metavar="ENGINE", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker_main(args.worker, args.seconds, args.cpu)

    wall0 = time.perf_counter()
    pinned = pin_cpu(args.cpu)
    rows = load_rows(args.sample, args.limit)
    names = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "ours" in names:  # ours first: its canonical texts are what the peers walk
        names.remove("ours")
        names.insert(0, "ours")
    log_dir = Path(tempfile.mkdtemp(prefix="bench_schema_"))
    workers: dict[str, Worker] = {}
    skipped: dict[str, str] = {}
    for n in names:
        w = Worker(n, args.seconds, args.cpu, args.max_rss_mb, log_dir)
        try:
            w.start()
            workers[n] = w
        except EngineUnavailable as exc:
            skipped[n] = str(exc)
            print(f"skipping {n}: {exc}", file=sys.stderr)
    names = [n for n in names if n in workers]
    records: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
    text_source = Counter()
    last_report = time.perf_counter()
    try:
        for k, row in enumerate(rows):
            texts: dict[int, str] = {}
            for n in names:
                tests = []
                for i, t in enumerate(row["tests"]):
                    item: dict[str, Any] = {"valid": t["valid"]}
                    if n == "ours":
                        item["data"] = t["data"]
                    else:
                        fb = canonical_fallback(t["data"])
                        text = texts.get(i, fb)
                        if text is None:
                            text = json.dumps(t["data"], separators=(",", ":"), ensure_ascii=False)
                        item["text"] = text
                        if fb is not None and fb != text:
                            item["alt_text"] = fb
                    tests.append(item)
                rec = workers[n].run_schema(row["schema"], tests)
                records[n].append(rec)
                if n == "ours":
                    for i, res in rec["results"].items():
                        if "text" in res:
                            texts[int(i)] = res["text"]
            if "ours" not in names:
                text_source["data order (ours not run)"] += len(row["tests"])
            else:
                text_source["ours canonical"] += len(texts)
                text_source["data order (ours gave no text)"] += len(row["tests"]) - len(texts)
            if time.perf_counter() - last_report > 30:
                last_report = time.perf_counter()
                print(f"  ... {k + 1}/{len(rows)} schemas, {last_report - wall0:.0f} s", file=sys.stderr)
    finally:
        for w in workers.values():
            w.stop()
    wall = time.perf_counter() - wall0

    summaries = {n: summarize(records[n], rows) for n in names}
    all_ok = [k for k in range(len(rows)) if names and all(records[n][k]["status"] == "compiled" for n in names)]
    common = {n: summarize(records[n], rows, all_ok) for n in names}

    # ---------------- report
    datasets = sorted({r["dataset"] for r in rows})
    print("# JSON Schema masks on MaskBench (maskbench-dev), Llama-3 vocabulary, one core\n")
    print(f"python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs, {pinned}; "
          f"{len(rows)} schemas (every {args.sample}th line of {len(datasets)} files), "
          f"{sum(len(r['tests']) for r in rows)} instances; limit {args.seconds:g} s per schema "
          f"(compile + first mask; again for all walks of the schema); run time {wall:.0f} s. Engines: "
          + ", ".join(f"{n} {workers[n].info.get('version', '?')}" for n in names) + "\n")
    for n, why in skipped.items():
        print(f"- **{n} skipped**: {why}")
    for n in names:
        print(f"- {n}: {load_notes(n)}")
    print("- instance texts: " + ", ".join(f"{v} {k}" for k, v in text_source.items()))
    print()

    def summary_row(n: str, s: dict[str, Any], extra: bool) -> list[str]:
        c, t, m = s["counts"], s["ttfm_ms"], s["mask_us"]
        row = [n, str(c.get("schemas", 0)), str(c.get("compiled", 0)), str(c.get("refused", 0)),
               str(c.get("timeout", 0) + c.get("oom", 0)) + (f" ({c['oom']} oom)" if c.get("oom") else ""),
               str(c.get("walk_timeout", 0)),
               fmt(t["p50"], 2), fmt(t["p90"], 2), fmt(t["p99"], 2),
               fmt(m["mean"]), fmt(m["p50"]), fmt(m["p99"]), fmt(m["max"]),
               f"{c.get('valid_rejected', 0)}/{c.get('valid_walked', 0)}",
               f"{c.get('invalid_accepted', 0)}/{c.get('invalid_walked', 0)}"]
        if extra:
            row.insert(14, str(c.get("valid_rejected_alt_ok", 0)) if n != "ours" else "-")
            peak = workers[n].peak_mb
            row.append(fmt(peak, 0))
        return row

    heads = ["engine", "schemas", "compiled", "refused/error", "timeouts", "walk timeouts", "TTFM p50 ms",
             "TTFM p90 ms", "TTFM p99 ms", "mask mean us", "mask p50 us", "mask p99 us", "mask max us",
             "valid rejected", "rejected, accepted in data order", "invalid accepted", "peak RSS MB"]
    print("## Summary per engine\n")
    print(table(heads, [summary_row(n, summaries[n], True) for n in names]) + "\n")
    print("TTFM: compile + matcher + first mask, over the schemas the engine compiled. Masks: every mask along "
          "the valid instances of the compiled schemas. `valid rejected` and `invalid accepted` are out of the "
          "instances walked. Peak RSS: the highest RSS (VmHWM) of the engine's worker process, "
          "the mark reset after imports + tokenizer (baseline RSS below), so it covers vocabulary setup, compiles "
          "and walks on top of that baseline; max over the worker's restarts.\n")
    if len(names) > 1:
        print(f"## On the {len(all_ok)} schemas every engine compiled\n")
        h2 = [h for h in heads if h not in ("rejected, accepted in data order", "peak RSS MB")]
        print(table(h2, [summary_row(n, common[n], False) for n in names]) + "\n")

    per_ds: dict[str, Any] = {}
    if "ours" in names:
        print("## Ours per dataset\n")
        drows = []
        for ds in datasets:
            idx = [k for k, r in enumerate(rows) if r["dataset"] == ds]
            s = summarize(records["ours"], rows, idx)
            per_ds[ds] = s
            r = summary_row(ds, s, False)
            drows.append(r)
        drows.append(summary_row("all", summaries["ours"], False))
        print(table(["dataset"] + heads[1:14] + [heads[15]], drows) + "\n")

    print("## Setup and refusal reasons\n")
    rows_setup = []
    for n in names:
        info = workers[n].info
        rows_setup.append([n, f"{info.get('setup_total_s', float('nan')) * 1e3:,.0f}",
                           fmt(info.get("baseline_rss_mb", float("nan")), 0), str(workers[n].starts),
                           ", ".join(f"{k} {v * 1e3:,.0f} ms" for k, v in info.get("setup_s", {}).items())])
    print(table(["engine", "setup + warm-up ms", "baseline RSS MB", "worker starts", "phases"], rows_setup) + "\n")
    for n in names:
        reasons = Counter(_short(r.get("reason", "")) for r in records[n] if r["status"] == "refused")
        if reasons:
            print(f"- {n}, top refusal reasons: " + "; ".join(f"{v}x {k}" for k, v in reasons.most_common(4)))
        fails = Counter()
        for r, row in zip(records[n], rows):
            for i, t in enumerate(row["tests"]):
                res = r["results"].get(i)
                if res and "why" in res and t["valid"]:
                    why = res["why"]
                    fails["end-of-sequence not allowed at the end" if "end-of-sequence" in why else
                          "token rejected by advance" if "advance" in why else "token not allowed by the mask"] += 1
                if res and "skipped" in res:
                    fails["skipped: " + res["skipped"]] += 1
        if fails:
            print(f"- {n}, valid-instance failures and skips: " + "; ".join(f"{v}x {k}" for k, v in fails.most_common(4)))
    print()

    if args.json:
        dump = {
            "python": platform.python_version(), "pinned": pinned, "sample": args.sample, "seconds": args.seconds,
            "wall_s": wall, "skipped": skipped,
            "engines": {n: {"info": workers[n].info, "peak_mb": workers[n].peak_mb, "starts": workers[n].starts,
                            "summary": summaries[n], "common": common[n]} for n in names},
            "ours_per_dataset": per_ds,
            "schemas": [{"dataset": r["dataset"], "line": r["line"],
                         **{n: {k: v for k, v in records[n][k2].items()} for n in names}}
                        for k2, r in enumerate(rows)],
        }
        Path(args.json).write_text(json.dumps(dump, indent=1))
        print(f"raw numbers written to {args.json}")
    return 0


def load_notes(name: str) -> str:
    cls = _ADAPTERS[name][0] if name in _ADAPTERS else None
    return cls.notes if cls else ""


if __name__ == "__main__":
    sys.exit(main())
