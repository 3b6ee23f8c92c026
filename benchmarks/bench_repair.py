"""Benchmark: constrain.repair vs json_repair on the labelled corpus from ``repair_corpus.py``.

For every failure mode (single and combined) it prints, per library:

* exact %       -- the value equals the ground truth;
* accept %      -- exact, or for truncation a sound prefix of the document (nothing invented or altered);
* wrong-silent %-- a value that is not acceptable, returned without an error or an ambiguity flag;
* flagged %     -- constrain only: the result is marked ambiguous (``repair_strict`` would raise);
* refused %     -- an error was raised (json_repair: an empty result);
* docs/s        -- throughput over the mode's texts.

json_repair is not a dependency: it is imported when importable, or from ``/tmp/peers`` (install it there with
``pip install --target /tmp/peers json-repair``), and its columns are left out when absent.

Usage: ``python benchmarks/bench_repair.py [--n 200] [--seed 0]``
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from constrain.errors import ConstrainError  # noqa: E402
from constrain.repair import repair  # noqa: E402
from repair_corpus import (Case, consistent_prefix, deep_equal, json_corpus, valid_corpus,  # noqa: E402
                           yaml_corpus)


def _load_peer() -> Any:
    try:
        import json_repair  # type: ignore[import-not-found]
        return json_repair
    except ImportError:
        pass
    peers = "/tmp/peers"
    if Path(peers).is_dir():
        sys.path.append(peers)
        try:
            import json_repair  # type: ignore[import-not-found]
            return json_repair
        except ImportError:
            return None
    return None


Outcome = tuple[str, Any]  # ("value"|"flagged"|"refused", value)


def ours(case: Case) -> Outcome:
    try:
        r = repair(case.text, format=case.fmt, truncated=True if case.truncated and case.fmt == "yaml" else None)
    except ConstrainError:
        return "refused", None
    return ("flagged" if r.ambiguous else "value"), r.value


def make_peer(peer: Any) -> Callable[[Case], Outcome]:
    def run(case: Case) -> Outcome:
        try:
            value = peer.repair_json(case.text, return_objects=True)
        except Exception:
            return "refused", None
        if value == "":
            return "refused", None
        return "value", value
    return run


def score(cases: list[Case], fn: Callable[[Case], Outcome]) -> dict[str, float]:
    t0 = time.perf_counter()
    outcomes = [fn(c) for c in cases]
    elapsed = time.perf_counter() - t0
    n = len(cases)
    exact = accept = silent = flagged = refused = 0
    for case, (kind, value) in zip(cases, outcomes):
        if kind == "refused":
            refused += 1
            continue
        is_exact = deep_equal(value, case.truth)
        ok = is_exact or (case.truncated and consistent_prefix(value, case.original))
        exact += is_exact
        accept += ok
        flagged += kind == "flagged"
        silent += (not ok) and kind == "value"
    pct = lambda k: 100.0 * k / n  # noqa: E731
    return {"exact": pct(exact), "accept": pct(accept), "silent": pct(silent), "flagged": pct(flagged),
            "refused": pct(refused), "rate": n / elapsed if elapsed else float("inf"), "n": n}


def _group(cases: list[Case]) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {}
    for c in cases:
        out.setdefault(c.mode, []).append(c)
    return out


def table(title: str, cases: list[Case], peer_fn: Callable[[Case], Outcome] | None) -> None:
    groups = _group(cases)
    width = max(len(m) for m in groups) + 2
    print(f"\n## {title}\n")
    head = f"| {'mode':<{width}}| ours exact | ours accept | ours wrong-silent | ours flagged | ours refused | ours docs/s"
    if peer_fn:
        head += " | jr exact | jr accept | jr wrong-silent | jr refused | jr docs/s | speed-up"
    print(head + " |")
    print("|" + "|".join("---" for _ in range(head.count("|"))) + "|")
    totals: dict[str, list[dict[str, float]]] = {"single": [], "combo": [], "peer_single": [], "peer_combo": []}
    for mode, group in groups.items():
        a = score(group, ours)
        row = (f"| {mode:<{width}}| {a['exact']:6.1f} | {a['accept']:6.1f} | {a['silent']:5.1f} | {a['flagged']:5.1f}"
               f" | {a['refused']:5.1f} | {a['rate']:8.0f}")
        kind = "combo" if "+" in mode else "single"
        if mode != "valid":
            totals[kind].append(a)
        if peer_fn:
            b = score(group, peer_fn)
            row += (f" | {b['exact']:6.1f} | {b['accept']:6.1f} | {b['silent']:5.1f} | {b['refused']:5.1f}"
                    f" | {b['rate']:8.0f} | {a['rate'] / b['rate']:5.1f}x")
            if mode != "valid":
                totals["peer_" + kind].append(b)
        print(row + " |")
    for kind in ("single", "combo"):
        rows = totals[kind]
        if not rows:
            continue
        avg = {k: sum(r[k] for r in rows) / len(rows) for k in ("exact", "accept", "silent", "flagged", "refused")}
        n = sum(r["n"] for r in rows)
        rate = n / sum(r["n"] / r["rate"] for r in rows)
        line = (f"| **all {kind}** | {avg['exact']:6.1f} | {avg['accept']:6.1f} | {avg['silent']:5.1f}"
                f" | {avg['flagged']:5.1f} | {avg['refused']:5.1f} | {rate:8.0f}")
        prow = totals["peer_" + kind]
        if prow:
            pavg = {k: sum(r[k] for r in prow) / len(prow) for k in ("exact", "accept", "silent", "refused")}
            prate = n / sum(r["n"] / r["rate"] for r in prow)
            line += (f" | {pavg['exact']:6.1f} | {pavg['accept']:6.1f} | {pavg['silent']:5.1f} | {pavg['refused']:5.1f}"
                     f" | {prate:8.0f} | {rate / prate:5.1f}x")
        print(line + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200, help="cases per JSON mode (YAML: half)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    peer = _load_peer()
    peer_fn = make_peer(peer) if peer else None
    if peer is None:
        print("(json_repair not importable: its columns are left out)")
    else:
        print(f"json_repair {getattr(peer, '__version__', '')} from {Path(peer.__file__).parent}")
    cases = valid_corpus(args.n, args.seed) + json_corpus(args.n, args.seed)
    table(f"JSON: {args.n} documents per mode, seed {args.seed}", cases, peer_fn)
    try:
        ycases = yaml_corpus(max(1, args.n // 2), args.seed)
    except ImportError:
        print("\n(PyYAML missing: YAML table skipped)")
        return
    table(f"YAML: {max(1, args.n // 2)} documents per mode, seed {args.seed} (truncation passes truncated=True)",
          ycases, None)


if __name__ == "__main__":
    main()
