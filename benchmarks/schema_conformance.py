"""Conformance of the JSON Schema compiler: JSON-Schema-Test-Suite outcomes and MaskBench counts.

For every (schema, instance, valid) case the schema is compiled and the instance, written in the
constraint's canonical form (``constraint.dumps``), must be accepted exactly when ``valid``; a
schema the compiler refuses counts as refused. Each schema gets a CPU-time limit (compile plus checks).

Outcomes per test: ``pass``; ``refused`` (schema refused or timed out); ``subset`` (a valid instance
rejected, where the schema asserts ``format`` email/hostname/idn-* and a string that jsonschema checks
against that format lies outside the documented subset of ``constrain/schema/formats.py``: an IDNA
``xn--`` label, a label over 62 characters, a quoted local part, an address literal, non-ASCII text;
see ``outside_format_subset``); ``wrong`` (every other disagreement). MaskBench counts such
rejections as ``valid_rejected_subset``, apart from ``valid_rejected``.

    python benchmarks/schema_conformance.py suite      # rewrite tests/schema/expected/json_schema_test_suite.json
    python benchmarks/schema_conformance.py maskbench  # all 7,208 schemas (script only): maskbench_counts.json
    python benchmarks/schema_conformance.py maskbench --sample 5   # every 5th schema (the slow test): ..._sample5.json
    python benchmarks/schema_conformance.py maskbench --sample 50  # every 50th schema (the default test): ..._sample50.json

``--progress`` logs to stderr, ``--log FILE`` writes one JSON line per schema (status, seconds, outcomes).

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
    """Run ``fn`` with a limit of ``seconds`` of this process's CPU time (user plus system).

    CPU time, not wall-clock time, so that a busy machine does not turn compiled schemas into timeouts.
    The timer repeats every 0.5 s after the limit: an exception raised inside a garbage-collector callback
    is swallowed by Python, and the next one must still stop the run.
    """
    old = signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds, 0.5)
    try:
        return fn()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


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


SUBSET_FORMATS = ("email", "hostname", "idn-email", "idn-hostname")
"""Formats enforced as a documented subset (``idn-*`` are refused today; listed so that supporting them
as a subset later is counted the same way)."""


def _hostname_outside_subset(host: str) -> str | None:
    """Why ``host`` is outside the documented hostname subset, or ``None`` if it is inside or invalid anyway."""
    if any(ord(ch) > 0x7E for ch in host):
        return "non-ASCII"
    labels = host.split(".")
    if any(len(label) >= 4 and label[2:4] == "--" for label in labels):
        return "'--' in the third and fourth positions (IDNA A-label)"
    if any(len(label) > 62 for label in labels):
        return "label longer than 62 characters"
    if len(labels) > 8:
        return "more than 8 labels"
    if len(labels) > 4 and any(len(label) > 30 for label in labels):
        return "more than 4 labels with one longer than 30 characters"
    return None


def outside_format_subset(fmt: str, value: Any) -> str | None:
    """Why the string ``value`` lies outside the documented subset for ``fmt``, or ``None``.

    An explicit check of the rules written in ``constrain/schema/formats.py`` (not of its regexes):
    it never decides whether ``value`` is valid, only whether it is one of the excluded forms.
    """
    if not isinstance(value, str):
        return None
    if fmt in ("hostname", "idn-hostname"):
        return _hostname_outside_subset(value)
    if fmt in ("email", "idn-email"):
        if "@" not in value:
            return None
        local, domain = value.rsplit("@", 1)
        if local.startswith('"'):
            return "quoted local part"
        if domain.startswith("["):
            return "address literal"
        if any(ord(ch) > 0x7E for ch in local):
            return "non-ASCII local part"
        why = _hostname_outside_subset(domain)
        return f"domain: {why}" if why else None
    return None


def _uses_subset_format(schema: Any) -> bool:
    if isinstance(schema, dict):
        if schema.get("format") in SUBSET_FORMATS:
            return True
        return any(_uses_subset_format(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_uses_subset_format(v) for v in schema)
    return False


def subset_reason(schema: Any, data: Any, draft: str | None) -> str | None:
    """Why a valid ``data`` may be rejected only by a documented format subset, or ``None``.

    jsonschema validates ``data`` with a format checker that records every (format, string) pair it is
    asked about for the subset formats, so only strings at positions the schema's ``format`` governs
    count; any of them outside its format's subset gives the reason. Any jsonschema failure: ``None``.
    """
    if not _uses_subset_format(schema):
        return None
    try:
        import jsonschema

        seen: list[tuple[str, str]] = []
        checker = jsonschema.FormatChecker(formats=())
        for fmt in SUBSET_FORMATS:
            def record(instance: Any, fmt: str = fmt) -> bool:
                if isinstance(instance, str):
                    seen.append((fmt, instance))
                return True
            checker.checks(fmt)(record)
        default = jsonschema.Draft7Validator if draft == "7" else jsonschema.Draft202012Validator
        cls = default if draft else jsonschema.validators.validator_for(schema, default=default)
        for _error in cls(schema, format_checker=checker).iter_errors(data):
            pass
    except Exception:  # noqa: BLE001 - no oracle, no subset verdict
        return None
    for fmt, value in seen:
        why = outside_format_subset(fmt, value)
        if why:
            return f"{fmt} {value!r}: {why}"
    return None


RELABELLED: Counter = Counter()
"""How many draft-03/04 instances had their label recomputed (see ``_draft4_label``)."""


def _has_integral_float(data: Any) -> bool:
    if isinstance(data, float):
        return data.is_integer()
    if isinstance(data, dict):
        return any(_has_integral_float(v) for v in data.values())
    if isinstance(data, list):
        return any(_has_integral_float(v) for v in data)
    return False


def _draft4_label(schema: Any, data: Any, text: str, valid: bool) -> bool:
    """The label of the value actually tested, where canonical text cannot keep a draft-03/04 distinction.

    Draft 03/04 count ``1.0`` as a number but not an integer; the canonical text writes it ``1``, an
    integer, so the suite's label for ``data`` need not hold for the text. For such instances only, the
    label is recomputed for ``json.loads(text)`` with jsonschema's validator for that draft.
    """
    meta = schema.get("$schema") if isinstance(schema, dict) else None
    if not (isinstance(meta, str) and ("draft-04" in meta or "draft-03" in meta)) or not _has_integral_float(data):
        return valid
    try:
        import jsonschema

        cls = jsonschema.Draft4Validator if "draft-04" in meta else jsonschema.Draft3Validator
        relabelled = cls(schema).is_valid(json.loads(text))
    except Exception:  # noqa: BLE001 - no oracle: keep the label
        return valid
    if relabelled != valid:
        RELABELLED["draft-03/04 integral float relabelled"] += 1
    return relabelled


def check_schema(
    schema: Any, tests: list[tuple[str, Any, bool]], options: dict, seconds: float, diagnostic: bool = False,
    labels: dict[str, bool] | None = None,
) -> tuple[str, dict[str, str], str]:
    """Compile and check one schema: (status, per-test outcome, refusal reason).

    ``labels``, if given, receives the label each checked test was judged by (see ``_draft4_label``).
    """
    outcomes: dict[str, str] = {}
    build = diagnostic_json_schema if diagnostic else json_schema
    asserting = options.get("format_assertion", True)

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
            valid = _draft4_label(schema, data, text, valid)
            if labels is not None:
                labels[tid] = valid
            try:
                ok = constraint.accepts(text)
            except ConstrainError:
                outcomes[tid] = "wrong"
                continue
            if ok == valid:
                outcomes[tid] = "pass"
            elif valid and asserting and subset_reason(schema, data, options.get("draft")):
                outcomes[tid] = "subset"
            else:
                outcomes[tid] = "wrong"
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
    base: Path, sample: int = 1, seconds: float = 10.0, diagnostic: bool = False, progress: bool = False,
    log: Any = None, statuses: dict[str, dict[str, list]] | None = None,
) -> tuple[dict[str, dict[str, int]], Counter]:
    """Counts per dataset (compiled, refused, timeouts, valid/invalid accepted/rejected) and refusal reasons.

    ``log``, a text file, receives one JSON line per schema (dataset, line, status, seconds, reason, outcomes).
    ``statuses``, if given, receives ``{dataset: {line: [status, passing, cpu seconds]}}`` per schema.
    """
    counts: dict[str, dict[str, int]] = {}
    reasons: Counter = Counter()
    t0 = time.time()
    for path in maskbench_files(base):
        c = Counter()
        for i, line in enumerate(path.read_text(encoding="utf-8").split("\n")):
            if not line.strip():
                continue
            if i % sample:
                continue
            if progress and c["schemas"] % 100 == 0:
                print(f"  [{time.time() - t0:7.1f} s] {path.stem} line {i}: {dict(c)}", file=sys.stderr, flush=True)
            row = json.loads(line)
            tests = [(str(j), t["data"], bool(t["valid"])) for j, t in enumerate(row.get("tests", []))]
            c["schemas"] += 1
            labels: dict[str, bool] = {}
            t_schema, cpu_schema = time.time(), time.process_time()
            status, result, reason = check_schema(row["schema"], tests, {}, seconds, diagnostic, labels)
            cpu_schema = time.process_time() - cpu_schema
            if log is not None:
                log.write(json.dumps({"dataset": path.stem, "line": i, "status": status, "seconds": round(time.time() - t_schema, 3),
                                      "reason": _short(reason) if reason else "", "outcomes": result, "labels": labels}) + "\n")
                log.flush()
            c[status] += 1
            if reason:
                reasons[_short(reason)] += 1
            for tid, data, valid in tests:
                valid = labels.get(tid, valid)
                key = "valid" if valid else "invalid"
                c[f"{key}_instances"] += 1
                if status != "compiled":
                    continue
                o = result[tid]
                if valid:
                    c["valid_accepted" if o == "pass" else "valid_rejected_subset" if o == "subset" else "valid_rejected"] += 1
                else:
                    c["invalid_rejected" if o == "pass" else "invalid_accepted"] += 1
            passing = status == "compiled" and all(result[t] == "pass" for t, _d, _v in tests)
            if passing:
                c["compiled_and_passing"] += 1
            if statuses is not None:
                statuses.setdefault(path.stem, {})[str(i)] = [status, passing, round(cpu_schema, 2)]
        keys = ["schemas", "compiled", "compiled_and_passing", "refused", "timeout", "valid_instances", "valid_accepted",
                "valid_rejected", "valid_rejected_subset", "invalid_instances", "invalid_rejected", "invalid_accepted"]
        counts[path.stem] = {k: c.get(k, 0) for k in keys}
        if progress:
            print(f"  [{time.time() - t0:7.1f} s] {path.stem} done: {json.dumps(counts[path.stem])}", file=sys.stderr, flush=True)
    return counts, reasons


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: run one corpus, print a summary, optionally rewrite the expectations."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", choices=["suite", "maskbench"])
    ap.add_argument("--sample", type=int, default=1, help="maskbench: keep every N-th schema")
    ap.add_argument("--seconds", type=float, default=10.0, help="CPU-time limit per schema (seconds)")
    ap.add_argument("--no-write", action="store_true", help="print only")
    ap.add_argument("--progress", action="store_true", help="maskbench: log progress to stderr")
    ap.add_argument("--log", type=Path, help="maskbench: write one JSON line per schema to this file")
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
            print(f"{cat:60s} pass {cc['pass']:4d} refused {cc['refused']:4d} subset {cc['subset']:4d} wrong {cc['wrong']:4d}")
        for draft, cc in totals.items():
            n = sum(cc.values())
            print(f"TOTAL {draft}: pass {cc['pass']} refused {cc['refused']} subset {cc['subset']} wrong {cc['wrong']} of {n}"
                  f" ({cc['pass'] / n:.1%} pass)")
        if not args.no_write:
            SUITE_FILE.write_text(json.dumps(dict(sorted(outcomes.items())), indent=0) + "\n", encoding="utf-8")
    else:
        log = args.log.open("w", encoding="utf-8") if args.log else None
        statuses: dict[str, dict[str, list]] = {}
        counts, reasons = run_maskbench(base, args.sample, args.seconds, args.diagnostic, args.progress, log, statuses)
        if log is not None:
            log.close()
        for name, cc in counts.items():
            print(name, json.dumps(cc))
        total = Counter()
        for cc in counts.values():
            total.update(cc)
        n, vi = max(total["schemas"], 1), max(total["valid_instances"], 1)
        print("TOTAL", json.dumps(dict(total)))
        print(f"compiled {total['compiled']}/{total['schemas']} ({total['compiled'] / n:.1%}), compiled and passing"
              f" {total['compiled_and_passing'] / n:.1%}, invalid accepted {total['invalid_accepted']}, valid rejected"
              f" {total['valid_rejected']} + subset {total['valid_rejected_subset']} of {total['valid_instances']}"
              f" ({(total['valid_rejected'] + total['valid_rejected_subset']) / vi:.2%})")
        if not args.no_write:
            target = MASKBENCH_FILE if args.sample == 1 else EXPECTED / f"maskbench_counts_sample{args.sample}.json"
            target.write_text(json.dumps(counts, indent=1, sort_keys=True) + "\n", encoding="utf-8")
            if args.sample > 1:
                status_file = EXPECTED / f"maskbench_status_sample{args.sample}.json"
                status_file.write_text(json.dumps(statuses, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    for note, n in RELABELLED.items():
        print(f"{note}: {n}")
    print("top refusal reasons:")
    for reason, n in reasons.most_common(15):
        print(f"  {n:5d}  {reason}")
    print(f"{time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
