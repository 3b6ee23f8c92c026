"""Conformance of the JSON Schema compiler: JSON-Schema-Test-Suite outcomes and MaskBench counts.

For every (schema, instance, valid) case the schema is compiled and the instance, written in the
constraint's canonical form (``constraint.dumps``), must be accepted exactly when ``valid``; a
schema the compiler refuses counts as refused. Each schema gets a time limit (compile plus checks).

    python benchmarks/schema_conformance.py suite      # rewrite tests/schema/expected/json_schema_test_suite.json
    python benchmarks/schema_conformance.py maskbench  # rewrite tests/schema/expected/maskbench_counts.json
    python benchmarks/schema_conformance.py maskbench --sample 7  # every 7th schema only (what the default tests run)

The data lives outside the repository (``../shared/data`` relative to the repository root, or
``$CONSTRAIN_DATA``); this script only reads it.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from constrain.errors import ConstrainError  # noqa: E402
from constrain.regex.ir import Node  # noqa: E402
from constrain.schema import JsonSchemaConstraint, json_schema  # noqa: E402
from constrain.schema.compiler import Compiler  # noqa: E402
from constrain.schema.context import Context  # noqa: E402
from constrain.schema.options import Options  # noqa: E402

DIAGNOSTIC_DEPTH = 3
"""Nesting depth of the stand-in for 'any JSON value' in diagnostic runs (see ``BoundedAnyCompiler``)."""


class BoundedAnyCompiler(Compiler):
    """Diagnostic only: 'any JSON value' as values nested at most ``DIAGNOSTIC_DEPTH`` deep.

    The library refuses such values (they need a grammar); this stand-in lets the conformance run
    exercise every other keyword. It can only reject valid deep values, never accept invalid ones.
    """

    def any_value(self, schema: Any, keyword: str) -> Node:
        return self.bounded_any(DIAGNOSTIC_DEPTH)


def diagnostic_json_schema(schema: Any, **options: Any) -> JsonSchemaConstraint:
    """Like ``json_schema`` but with the bounded stand-in for unconstrained values."""
    opts = Options(**options)
    ctx = Context(schema, opts)
    node = BoundedAnyCompiler(ctx).document()
    return JsonSchemaConstraint(node, schema, opts, ctx.ranks, ctx.dropped)

EXPECTED = ROOT / "tests" / "schema" / "expected"
SUITE_FILE = EXPECTED / "json_schema_test_suite.json"
MASKBENCH_FILE = EXPECTED / "maskbench_counts.json"
DRAFTS = {"draft2020-12": "2020-12", "draft7": "7"}


def data_dir() -> Path:
    """Where the shared test data lives."""
    env = os.environ.get("CONSTRAIN_DATA")
    if env:
        return Path(env)
    for cand in (ROOT.parent / "shared" / "data", ROOT / ".." / "shared" / "data"):
        if cand.is_dir():
            return cand.resolve()
    return ROOT.parent / "shared" / "data"


class Timeout(Exception):
    """The per-schema time limit was reached."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Timeout()


def _run_limited(seconds: float, fn: Any) -> Any:
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def suite_cases(base: Path) -> Iterator[tuple[str, str, str, Any, list[tuple[str, Any, bool]]]]:
    """(category, draft, group id, schema, [(test id, data, valid)]) for both drafts."""
    root = base / "json-schema-test-suite" / "tests"
    for folder, draft in DRAFTS.items():
        for path in sorted((root / folder).rglob("*.json")):
            rel = path.relative_to(root / folder).with_suffix("").as_posix()
            category = f"{folder}/{rel}"
            groups = json.loads(path.read_text(encoding="utf-8"))
            for gi, group in enumerate(groups):
                gid = f"{category}::{gi}"
                tests = [(f"{gid}::{ti}", t["data"], bool(t["valid"])) for ti, t in enumerate(group["tests"])]
                yield category, draft, gid, group["schema"], tests


def check_schema(
    schema: Any, tests: list[tuple[str, Any, bool]], options: dict, seconds: float, diagnostic: bool = False
) -> tuple[str, dict[str, str], str]:
    """Compile and check one schema: (status, per-test outcome, refusal reason)."""
    outcomes: dict[str, str] = {}
    build = diagnostic_json_schema if diagnostic else json_schema

    def work() -> tuple[str, str]:
        try:
            constraint = build(schema, **options)
        except (ConstrainError, ValueError, TypeError, RecursionError) as e:
            return "refused", f"{type(e).__name__}: {e}"
        for tid, data, valid in tests:
            try:
                text = constraint.dumps(data)
            except (TypeError, ValueError):
                outcomes[tid] = "pass" if not valid else "wrong"
                continue
            try:
                ok = constraint.accepts(text)
            except ConstrainError:
                outcomes[tid] = "wrong"
                continue
            outcomes[tid] = "pass" if ok == valid else "wrong"
        return "compiled", ""

    try:
        status, reason = _run_limited(seconds, work)
    except Timeout:
        return "timeout", {tid: "refused" for tid, _d, _v in tests}, "timeout"
    if status != "compiled":
        return status, {tid: "refused" for tid, _d, _v in tests}, reason
    return status, outcomes, ""


def run_suite(base: Path, seconds: float = 10.0, diagnostic: bool = False) -> tuple[dict[str, str], dict[str, Counter], Counter]:
    """Every suite test's outcome, counts per category, and refusal reasons."""
    outcomes: dict[str, str] = {}
    per_cat: dict[str, Counter] = {}
    reasons: Counter = Counter()
    for category, draft, _gid, schema, tests in suite_cases(base):
        options = {"draft": draft, "format_assertion": "/optional/format/" in f"/{category}/"}
        _status, result, reason = check_schema(schema, tests, options, seconds, diagnostic)
        if reason:
            reasons[_short(reason)] += len(tests)
        outcomes.update(result)
        counter = per_cat.setdefault(category, Counter())
        for o in result.values():
            counter[o] += 1
    return outcomes, per_cat, reasons


def _short(reason: str) -> str:
    text = reason.split(": ", 1)[-1]
    if "cannot enforce" in text:
        kw = text.split("'")[1] if "'" in text else text
        tail = text.split(": ", 1)[1] if ": " in text else ""
        return f"{kw}: {tail[:70]}"
    return text[:90]


def maskbench_files(base: Path) -> list[Path]:
    """The MaskBench development files, sorted."""
    return sorted((base / "maskbench-dev").glob("*.jsonl"))


def run_maskbench(
    base: Path, sample: int = 1, seconds: float = 10.0, diagnostic: bool = False
) -> tuple[dict[str, dict[str, int]], Counter]:
    """Counts per dataset (compiled, refused, timeouts, valid/invalid accepted/rejected) and refusal reasons."""
    counts: dict[str, dict[str, int]] = {}
    reasons: Counter = Counter()
    for path in maskbench_files(base):
        c = Counter()
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
            if not line.strip():
                continue
            if i % sample:
                continue
            row = json.loads(line)
            tests = [(str(j), t["data"], bool(t["valid"])) for j, t in enumerate(row.get("tests", []))]
            c["schemas"] += 1
            status, result, reason = check_schema(row["schema"], tests, {}, seconds, diagnostic)
            c[status] += 1
            if reason:
                reasons[_short(reason)] += 1
            for tid, data, valid in tests:
                key = "valid" if valid else "invalid"
                c[f"{key}_instances"] += 1
                if status != "compiled":
                    continue
                o = result[tid]
                if valid:
                    c["valid_accepted" if o == "pass" else "valid_rejected"] += 1
                else:
                    c["invalid_rejected" if o == "pass" else "invalid_accepted"] += 1
            if status == "compiled" and all(result[t] == "pass" for t, _d, _v in tests):
                c["compiled_and_passing"] += 1
        keys = ["schemas", "compiled", "compiled_and_passing", "refused", "timeout", "valid_instances", "valid_accepted",
                "valid_rejected", "invalid_instances", "invalid_rejected", "invalid_accepted"]
        counts[path.stem] = {k: c.get(k, 0) for k in keys}
    return counts, reasons


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: run one corpus, print a summary, optionally rewrite the expectations."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", choices=["suite", "maskbench"])
    ap.add_argument("--sample", type=int, default=1, help="maskbench: keep every N-th schema")
    ap.add_argument("--seconds", type=float, default=10.0, help="time limit per schema")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--diagnostic", action="store_true", help="stand in bounded values for 'any JSON value' (print only)")
    args = ap.parse_args(argv)
    if args.diagnostic:
        args.no_write = True
    base = data_dir()
    EXPECTED.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if args.corpus == "suite":
        outcomes, per_cat, reasons = run_suite(base, args.seconds, args.diagnostic)
        totals: dict[str, Counter] = {}
        for cat, counter in per_cat.items():
            totals.setdefault(cat.split("/")[0], Counter()).update(counter)
        for cat in sorted(per_cat):
            cc = per_cat[cat]
            print(f"{cat:60s} pass {cc['pass']:4d} refused {cc['refused']:4d} wrong {cc['wrong']:4d}")
        for draft, cc in totals.items():
            n = sum(cc.values())
            print(f"TOTAL {draft}: pass {cc['pass']} refused {cc['refused']} wrong {cc['wrong']} of {n} ({cc['pass'] / n:.1%} pass)")
        if not args.no_write:
            SUITE_FILE.write_text(json.dumps(dict(sorted(outcomes.items())), indent=0) + "\n", encoding="utf-8")
    else:
        counts, reasons = run_maskbench(base, args.sample, args.seconds, args.diagnostic)
        for name, cc in counts.items():
            print(name, json.dumps(cc))
        if not args.no_write:
            target = MASKBENCH_FILE if args.sample == 1 else EXPECTED / f"maskbench_counts_sample{args.sample}.json"
            target.write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print("top refusal reasons:")
    for reason, n in reasons.most_common(15):
        print(f"  {n:5d}  {reason}")
    print(f"{time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
