"""Extraction accuracy per field kind with jump-forward and ``describe`` on and off (SmolLM2-135M-Instruct, greedy).

Each text in ``data/extraction_kinds.jsonl`` describes one person; the model fills
``{"name", "age", "city", "seniority", "remote", "skills"}`` (strings, a number, an enum, a boolean and
a list of strings) under the schema's token mask. ``--data people`` runs the 40 texts of
``data/extraction.jsonl`` (``bench_sampling.py``'s name/age/city/job schema) instead. Per condition:

* valid %           -- the output parses and validates;
* per kind %        -- fields equal to the gold value (strings case-insensitively; a list must have the
  gold items, case-insensitively, in any order); an invalid output scores 0 everywhere;
* filled %          -- lists with at least one item where the text names items;
* copied            -- outputs holding a ``describe`` placeholder (``<string>``) as a value;
* canonical %       -- outputs whose text, re-encoded by the tokenizer, gives exactly the generated tokens;
* tokens/ex, forwards/ex -- tokens generated and model calls per example.

Conditions: jump-forward on/off x ``describe`` on/off, with ``canonical_tokens`` on (the default: the
model's own tokens rewritten as the tokenizer writes the text so far) and off; and the first grid with
``whitespace="flexible"`` (the model writes the whitespace it likes, bounded) instead of compact JSON.

Usage: ``python benchmarks/bench_extraction.py [--data kinds|people] [--limit N] [--conditions a,b] [--threads T] [--json PATH]``
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pydantic import BaseModel  # noqa: E402

import constrain as c  # noqa: E402

KINDS_DATA = ROOT / "benchmarks" / "data" / "extraction_kinds.jsonl"
PEOPLE_DATA = ROOT / "benchmarks" / "data" / "extraction.jsonl"
MAX_NEW_TOKENS = 96
SYSTEM = "You extract facts from text as JSON."


class Person(BaseModel):
    """The record of ``extraction_kinds.jsonl``: one field of every kind."""

    name: str
    age: int
    city: str
    seniority: Literal["junior", "mid", "senior"]
    remote: bool
    skills: list[str]


CONDITIONS: dict[str, dict[str, Any]] = {
    "jf=on describe=off": {"jump_forward": True, "describe": False},
    "jf=off describe=off": {"jump_forward": False, "describe": False},
    "jf=on describe=on": {"jump_forward": True, "describe": True},
    "jf=off describe=on": {"jump_forward": False, "describe": True},
    "jf=on describe=off canonical_tokens=off": {"jump_forward": True, "describe": False, "canonical_tokens": False},
    "jf=off describe=off canonical_tokens=off": {"jump_forward": False, "describe": False, "canonical_tokens": False},
    "jf=on describe=on canonical_tokens=off": {"jump_forward": True, "describe": True, "canonical_tokens": False},
    "jf=off describe=on canonical_tokens=off": {"jump_forward": False, "describe": True, "canonical_tokens": False},
    "ws=flexible jf=on describe=off": {"whitespace": "flexible", "jump_forward": True, "describe": False},
    "ws=flexible jf=off describe=off": {"whitespace": "flexible", "jump_forward": False, "describe": False},
    "ws=flexible jf=on describe=on": {"whitespace": "flexible", "jump_forward": True, "describe": True},
    "ws=flexible jf=off describe=on": {"whitespace": "flexible", "jump_forward": False, "describe": True},
}
"""Generation options per condition; ``whitespace`` goes to ``c.json_schema`` (compact when absent)."""
KIND_ORDER = ("strings", "numbers", "booleans", "enums", "lists")


def field_kinds(schema: dict[str, Any]) -> dict[str, str]:
    """Each top-level property's kind, read from the JSON Schema."""
    defs = schema.get("$defs", {})
    out = {}
    for name, prop in schema["properties"].items():
        if "$ref" in prop:
            prop = defs[prop["$ref"].rsplit("/", 1)[-1]]
        if "enum" in prop or "const" in prop:
            out[name] = "enums"
        else:
            out[name] = {"string": "strings", "integer": "numbers", "number": "numbers", "boolean": "booleans", "array": "lists"}[prop["type"]]
    return out


def same(got: Any, want: Any) -> bool:
    """Field equality: strings case-insensitively, lists as case-insensitive multisets, the rest exactly."""
    if isinstance(want, list):
        return isinstance(got, list) and sorted(str(x).lower() for x in got) == sorted(str(x).lower() for x in want)
    if isinstance(want, str):
        return isinstance(got, str) and got.strip().lower() == want.lower()
    return type(got) is type(want) and got == want


def placeholder_copied(value: Any) -> bool:
    """Whether a ``describe`` placeholder such as ``<string>`` ended up as a value."""
    if isinstance(value, dict):
        return any(placeholder_copied(v) for v in value.values())
    if isinstance(value, list):
        return any(placeholder_copied(v) for v in value)
    return isinstance(value, str) and value.startswith("<") and value.endswith(">")


def load(data: str, limit: int | None) -> tuple[list[dict[str, Any]], Any, Any]:
    """(examples, output type for ``generate``, messages builder)."""
    if data == "people":
        from benchmarks.bench_sampling import SCHEMA, messages

        rows = [json.loads(line) for line in PEOPLE_DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
        return rows[:limit], SCHEMA, messages
    rows = [json.loads(line) for line in KINDS_DATA.read_text(encoding="utf-8").splitlines() if line.strip()]

    def kinds_messages(text: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": f"Extract the person described in this text.\n\nText: {text}"}]

    return rows[:limit], Person, kinds_messages


def run(model: Any, tok: Any, rows: list[dict[str, Any]], output: Any, messages: Any, options: dict[str, Any]) -> list[dict[str, Any]]:
    """One generation per example; what the table needs from each."""
    options = dict(options)
    whitespace = options.pop("whitespace", None)
    if whitespace is not None:
        output = c.json_schema(output, whitespace=whitespace)
    out = []
    for row in rows:
        result = c.generate(model, tok, messages(row["text"]), output, max_new_tokens=MAX_NEW_TOKENS, **options)
        value = result.value.model_dump() if hasattr(result.value, "model_dump") else result.value
        out.append({
            "text": result.text,
            "valid": result.valid,
            "value": value if result.valid else None,
            "gold": row["gold"],
            "canonical": tok.encode(result.text, add_special_tokens=False) == result.token_ids,
            "token_ids": result.token_ids,
            "tokens": result.num_tokens,
            "forwards": result.forward_passes,
            "seconds": result.seconds,
        })
    return out


def summarize(records: list[dict[str, Any]], kinds: dict[str, str]) -> dict[str, Any]:
    """The table row of one condition."""
    n = len(records)
    hits = {k: [0, 0] for k in KIND_ORDER}
    filled = [0, 0]
    for r in records:
        value = r["value"] if isinstance(r["value"], dict) else {}
        for name, kind in kinds.items():
            hits[kind][1] += 1
            hits[kind][0] += bool(value) and same(value.get(name), r["gold"][name])
            if kind == "lists" and r["gold"][name]:
                filled[1] += 1
                filled[0] += bool(value.get(name))
    return {
        "n": n,
        "valid": sum(r["valid"] for r in records) / n,
        "kinds": {k: (h / t if t else None) for k, (h, t) in hits.items()},
        "filled": filled[0] / filled[1] if filled[1] else None,
        "copied": sum(placeholder_copied(r["value"]) for r in records),
        "canonical": sum(r["canonical"] for r in records) / n,
        "tokens": sum(r["tokens"] for r in records) / n,
        "forwards": sum(r["forwards"] for r in records) / n,
        "seconds": sum(r["seconds"] for r in records) / n,
    }


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.0f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=["kinds", "people"], default="kinds")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--conditions", default=",".join(CONDITIONS), help="comma-separated condition names")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="write every output here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(args.threads)
    from constrain.generate import load_model

    names = [s.strip() for s in args.conditions.split(",") if s.strip()]
    unknown = [s for s in names if s not in CONDITIONS]
    if unknown:
        parser.error(f"unknown conditions {unknown}; known: {list(CONDITIONS)}")
    rows, output, messages = load(args.data, args.limit)
    schema = output if isinstance(output, dict) else output.model_json_schema()
    kinds = field_kinds(schema)
    model, tok = load_model("smollm2")
    started = time.perf_counter()
    results: dict[str, list[dict[str, Any]]] = {}
    for name in names:
        results[name] = run(model, tok, rows, output, messages, CONDITIONS[name])
        print(f"[{time.perf_counter() - started:6.0f} s] {name} done", file=sys.stderr, flush=True)
    present = [k for k in KIND_ORDER if k in kinds.values()]
    print(f"SmolLM2-135M-Instruct, greedy, CPU ({args.threads} thread(s)); {len(rows)} texts from "
          f"{(PEOPLE_DATA if args.data == 'people' else KINDS_DATA).name}; max_new_tokens={MAX_NEW_TOKENS}\n")
    print("| condition | valid % | " + " | ".join(f"{k} %" for k in present)
          + " | lists filled % | placeholder copied | canonical % | tokens/ex | forwards/ex | s/ex |")
    print("|---|--:|" + "--:|" * len(present) + "--:|--:|--:|--:|--:|--:|")
    total = canonical = 0
    for name, records in results.items():
        s = summarize(records, kinds)
        total += s["n"]
        canonical += round(s["canonical"] * s["n"])
        print(f"| {name} | {pct(s['valid'])} | " + " | ".join(pct(s["kinds"][k]) for k in present)
              + f" | {pct(s['filled'])} | {s['copied']} | {pct(s['canonical'])} | {s['tokens']:.1f} | {s['forwards']:.1f} | {s['seconds']:.1f} |")
    print(f"\nRe-encoding the text gives the generated tokens in {canonical}/{total} outputs ({100 * canonical / max(total, 1):.1f}%).")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
