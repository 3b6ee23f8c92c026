"""Any-value parts and recursive schemas: grammar-backed constraints checked against independent oracles."""
from __future__ import annotations

import json
import random
from typing import Any

import jsonschema
import pytest

import constrain as c
import constrain.schema as cs
from constrain.errors import UnsupportedSchema

LINKED_LIST = {
    "$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"}, "next": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]}},
                       "required": ["v", "next"], "additionalProperties": False}},
    "$ref": "#/$defs/node",
}
TREE = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 5}, "children": {"type": "array", "items": {"$ref": "#"}, "maxItems": 3}},
    "required": ["name"],
    "additionalProperties": False,
}
POINTER = {  # a JSON-pointer reference into the middle of the document, no $defs
    "type": "object",
    "properties": {"expr": {"oneOf": [{"type": "integer"}, {"type": "array", "items": {"$ref": "#/properties/expr"}, "minItems": 1}]}},
    "required": ["expr"],
    "additionalProperties": False,
}
OPEN = {"type": "object", "properties": {"a": {"type": "integer"}}}


def linked(n: int) -> Any:
    node: Any = None
    for i in range(n):
        node = {"v": i, "next": node}
    return node


def tree(depth: int, rng: random.Random) -> Any:
    out: dict[str, Any] = {"name": "n" + str(rng.randrange(100))}
    if depth and rng.random() < 0.8:
        out["children"] = [tree(depth - 1, rng) for _ in range(rng.randrange(4))]
    return out


def random_value(rng: random.Random, depth: int) -> Any:
    kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] if depth else [])
    k = rng.choice(kinds)
    if k == "null":
        return None
    if k == "bool":
        return rng.random() < 0.5
    if k == "int":
        return rng.randrange(-1000, 1000)
    if k == "float":
        return rng.randrange(-10000, 10000) / 64
    if k == "str":
        return "".join(rng.choice('ab"\\\n é😀') for _ in range(rng.randrange(5)))
    if k == "list":
        return [random_value(rng, depth - 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["a", "b", "x", "é", ""]) + str(i): random_value(rng, depth - 1) for i in range(rng.randrange(4))}


def mutations(text: str, rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        i = rng.randrange(len(text) + 1)
        op = rng.randrange(3)
        if op == 0:
            out.append(text[:i] + rng.choice('{}[],:"0a-. ') + text[i:])
        elif op == 1 and i < len(text):
            out.append(text[:i] + text[i + 1 :])
        elif i < len(text):
            out.append(text[:i] + rng.choice('{}[],:"0a-') + text[i + 1 :])
    return out


def oracle_accepts(schema: Any, text: str) -> bool:
    """Whether ``text`` is JSON (without duplicate keys) valid under ``schema``."""
    def no_dupes(pairs: list) -> dict:
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key")
        return dict(pairs)

    try:
        value = json.loads(text, object_pairs_hook=no_dupes)
    except ValueError:
        return False
    return jsonschema.Draft202012Validator(schema).is_valid(value)


@pytest.mark.parametrize("schema,values", [
    (LINKED_LIST, [linked(0 + 1), linked(5), linked(30)]),
    (TREE, [tree(d, random.Random(d)) for d in range(6)]),
    (POINTER, [{"expr": 1}, {"expr": [1, [2, [3, [4]]]]}, {"expr": [[[[[[7]]]]]]}]),
], ids=["linked-list", "tree", "json-pointer"])
def test_recursive_schemas_accept_valid_values_at_any_depth(schema: Any, values: list) -> None:
    constraint = cs.json_schema(schema)
    assert isinstance(constraint, cs.JsonSchemaGrammarConstraint)
    for v in values:
        jsonschema.validate(v, schema)
        text = constraint.dumps(v)
        assert constraint.accepts(text), text
        assert json.loads(text) == v and constraint.parse(text) == v


@pytest.mark.parametrize("schema", [LINKED_LIST, TREE, POINTER, OPEN, {}, True], ids=["linked", "tree", "pointer", "open", "empty", "true"])
def test_language_matches_the_oracle_on_mutations(schema: Any) -> None:
    constraint = cs.json_schema(schema)
    rng = random.Random(7)
    seeds = [constraint.dumps(v) for v in ([linked(3), tree(3, rng), {"expr": [1, [2]]}, {"a": 1, "z": [{}, None]}, {"q": 1}, [1, "x"]])]
    checked = 0
    for seed in seeds:
        for text in [seed] + mutations(seed, rng, 40):
            expected = oracle_accepts(schema, text)
            got = constraint.accepts(text)
            if got:  # accepted texts must be valid (soundness)
                assert expected, text
            elif expected:  # valid texts are rejected only when not in canonical form
                assert constraint.dumps(json.loads(text)) != text, text
            if constraint.accepts_prefix(text) and not got:
                checked += 1
    assert checked >= 0


def test_any_value_schemas() -> None:
    rng = random.Random(1)
    for schema in ({}, True):
        constraint = cs.json_schema(schema)
        for _ in range(50):
            v = random_value(rng, 4)
            assert constraint.accepts(constraint.dumps(v)), v
        assert not constraint.accepts("[1,]") and not constraint.accepts("") and not constraint.accepts("{1:2}")


def test_extra_properties_come_after_declared_ones() -> None:
    constraint = cs.json_schema(OPEN)
    rng = random.Random(2)
    for _ in range(40):
        v = {k: random_value(rng, 3) for k in rng.sample(["z", "b", "é", "a"], rng.randrange(4))}
        if "a" in v:
            v["a"] = rng.randrange(10)
        text = constraint.dumps(v)
        assert constraint.accepts(text) == oracle_accepts(OPEN, text), text
    assert not constraint.accepts('{"a":"x"}') and not constraint.accepts('{"a":1,"a":2}')


def test_items_absent_means_any_items() -> None:
    schema = {"type": "array", "minItems": 1}
    constraint = cs.json_schema(schema)
    for v in ([1], [[[]], {"a": {"b": [None]}}], ["x", 1.5, True]):
        assert constraint.accepts(constraint.dumps(v)) == jsonschema.Draft202012Validator(schema).is_valid(v)
    assert not constraint.accepts("[]")


def test_pydantic_self_referencing_model() -> None:
    from pydantic import BaseModel

    class Node(BaseModel):
        name: str
        children: list["Node"] = []

    constraint = c.json_schema(Node)
    value = Node(name="r", children=[Node(name="a", children=[Node(name="b")]), Node(name="c")])
    text = constraint.dumps(value)
    assert constraint.accepts(text)
    parsed = constraint.parse(text)
    assert isinstance(parsed, Node) and parsed == value
    with pytest.raises(ValueError):
        constraint.parse('{"name":"r","children":[{"children":[]}]}')


def test_intersection_with_recursion_is_refused_with_pointer() -> None:
    inlined = {"$defs": {"t": {"type": "array", "items": {"$ref": "#/$defs/t"}}},
               "type": "object", "properties": {"x": {"allOf": [{"$ref": "#/$defs/t"}, {"maxItems": 2}]}}}
    ok = cs.json_schema(inlined)  # the outer intersection is inlined, so it is exact
    assert ok.accepts('{"x":[[],[[[]]]]}') and not ok.accepts('{"x":[[],[],[]]}')
    schema = {"$defs": {"t": {"type": "array", "items": {"allOf": [{"$ref": "#/$defs/t"}, {"maxItems": 2}]}}},
              "$ref": "#/$defs/t"}
    with pytest.raises(UnsupportedSchema) as info:
        cs.json_schema(schema)
    assert info.value.pointer == "/$defs/t/items/allOf/1" and info.value.keyword == "maxItems"
    lenient = cs.json_schema(schema, lenient=True)
    assert ("/$defs/t/items/allOf/1", "maxItems") in lenient.dropped


def test_flexible_whitespace_stays_bounded() -> None:
    constraint = cs.json_schema(TREE, whitespace="flexible", max_whitespace=3)
    assert constraint.accepts('{ "name" : "a" , "children" : [ { "name":"b" } ] }')
    assert constraint.accepts('\n{"name":"a",\t"children":[]}  ')
    assert not constraint.accepts('{"name":"a",' + " " * 30 + '"children":[]}')
    open_ = cs.json_schema({}, whitespace="flexible", max_whitespace=2)
    assert open_.accepts('[ 1 , { "a" : [ ] } ]')
    assert not open_.accepts("[1," + " " * 12 + "2]")


def test_masks_walk_valid_instances_with_llama3(llama3_tok: Any) -> None:
    vocab = c.Vocabulary.from_tokenizer(llama3_tok)
    cases = [(TREE, tree(3, random.Random(5))), (OPEN, {"a": 3, "b": [1, {"c": None}], "d": "é"})]
    for schema, value in cases:
        constraint = cs.json_schema(schema)
        text = constraint.dumps(value)
        ids = llama3_tok.encode(text, add_special_tokens=False)
        matcher = constraint.matcher(vocab)
        done = b""
        for step, tid in enumerate(ids):
            assert matcher.is_allowed(tid), (text, step)
            if step in (0, 1, len(ids) // 2, len(ids) - 1):  # compare with a brute-force per-token check
                allowed = set(matcher.allowed_token_ids().tolist())
                sample = random.Random(step).sample(range(len(vocab)), 1500) + sorted(allowed)[:300]
                for t in sample:
                    piece = vocab.token_to_bytes(t)
                    if not piece:
                        continue
                    assert (t in allowed) == constraint.accepts_prefix(done + piece), (step, t, piece)
            matcher.advance(tid)
            done += vocab.token_to_bytes(tid) or b""
        assert matcher.is_accepting()


@pytest.mark.slow
def test_sampled_outputs_validate(tiny: Any) -> None:
    model, tok = tiny
    for schema in (TREE, LINKED_LIST):
        constraint = cs.json_schema(schema)
        for seed in range(3):
            result = c.generate(model, tok, "JSON:", constraint, max_new_tokens=60, temperature=1.0, seed=seed)
            if result.valid:
                jsonschema.validate(json.loads(result.text), schema)
            else:
                assert constraint.accepts_prefix(result.text)
