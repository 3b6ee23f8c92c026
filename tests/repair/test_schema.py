"""Schema-guided coercions: only lossless ones, each reported; the oracle is jsonschema validation."""
from __future__ import annotations

import pytest

jsonschema = pytest.importorskip("jsonschema")

from constrain.errors import RepairError  # noqa: E402
from constrain.repair import repair, repair_strict  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "age": {"type": "integer"},
        "score": {"type": "number"},
        "active": {"type": "boolean"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "name": {"type": "string"},
    },
    "required": ["age"],
}


def test_lossless_coercions_are_applied_and_reported() -> None:
    r = repair_strict("{'age': '42', 'score': '2.5', 'active': 'true', 'tags': 'solo', 'name': 'x',}", schema=SCHEMA)
    assert r.value == {"age": 42, "score": 2.5, "active": True, "tags": ["solo"], "name": "x"}
    jsonschema.validate(r.value, SCHEMA)
    coerced = [f for f in r.fixes if f.kind == "coerced"]
    assert {f.path for f in coerced} == {"$.age", "$.score", "$.active", "$.tags"}


def test_no_lossy_coercion() -> None:
    with pytest.raises(RepairError, match=r"\$\.age"):
        repair('{"age": "forty"}', schema=SCHEMA)
    with pytest.raises(RepairError):
        repair('{"age": "4.5"}', schema=SCHEMA)


def test_valid_value_needs_no_fix() -> None:
    r = repair('{"age": 3}', schema=SCHEMA)
    assert r.value == {"age": 3} and r.fixes == []


def test_refs_and_any_of() -> None:
    schema = {"$defs": {"n": {"type": "integer"}}, "type": "object",
              "properties": {"v": {"anyOf": [{"$ref": "#/$defs/n"}, {"type": "null"}]}}}
    assert repair('{"v": "7"}', schema=schema).value == {"v": 7}
    assert repair('{"v": null}', schema=schema).value == {"v": None}


def test_pydantic_model_instance() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Person(pydantic.BaseModel):
        name: str
        age: int
        tags: list[str] = []

    r = repair("```json\n{name: 'Ada', age: '36', tags: 'math'}\n```", schema=Person)
    assert isinstance(r.value, Person) and r.value.age == 36 and r.value.tags == ["math"]
    with pytest.raises(RepairError):
        repair('{"name": "Ada"}', schema=Person)
