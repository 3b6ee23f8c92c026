"""Shared helpers for the schema tests: an oracle validator and random texts from a constraint's automaton."""
from __future__ import annotations

import json
import random
from typing import Any

import jsonschema

from constrain.regex.dfa import DEAD
from constrain.schema.compiler import ecma_to_python


def ecma_schema(schema: Any) -> Any:
    """``schema`` with ``pattern``/``patternProperties`` regexes rewritten to their ECMA-262 meaning."""
    if isinstance(schema, list):
        return [ecma_schema(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {}
    for k, v in schema.items():
        if k == "pattern" and isinstance(v, str):
            out[k] = ecma_to_python(v)
        elif k == "patternProperties" and isinstance(v, dict):
            out[k] = {ecma_to_python(p): ecma_schema(sub) for p, sub in v.items()}
        elif k in ("enum", "const", "examples", "default"):
            out[k] = v
        else:
            out[k] = ecma_schema(v)
    return out


def validator(schema: Any) -> jsonschema.protocols.Validator:
    """A jsonschema validator (2020-12 unless the schema names another draft) with format checks on.

    Patterns are given their ECMA-262 meaning, as the JSON Schema specification (and the compiler) do.
    """
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(ecma_schema(schema), format_checker=cls.FORMAT_CHECKER)


def random_texts(constraint: Any, n: int, seed: int = 0, max_len: int = 300) -> list[str]:
    """Up to ``n`` distinct accepted texts found by random walks over the constraint's DFA."""
    rng = random.Random(seed)
    dfa = constraint.dfa
    out: set[str] = set()
    for _ in range(n * 20):
        if len(out) >= n:
            break
        state = dfa.start
        data = bytearray()
        while len(data) < max_len:
            if dfa.is_accepting(state) and rng.random() < 0.25:
                out.add(data.decode("utf-8"))
                break
            dfa.expand(state)
            row = dfa.table[state]
            live = [c for c in range(dfa.num_classes) if row[c] != DEAD]
            if not live:
                if dfa.is_accepting(state):
                    out.add(data.decode("utf-8"))
                break
            c = rng.choice(live)
            data.append(rng.choice(dfa.class_bytes[c]))
            state = int(row[c])
    return sorted(out)


def check_sound(constraint: Any, schema: Any, n: int = 40, seed: int = 0) -> int:
    """Every sampled accepted text parses and validates; returns how many were checked."""
    v = validator(schema)
    texts = random_texts(constraint, n, seed)
    for t in texts:
        value = json.loads(t)
        errors = list(v.iter_errors(value))
        assert not errors, f"accepted invalid text {t!r}: {errors[0].message}"
    return len(texts)
