"""pydantic v2 models as input: compiled from ``model_json_schema``, results validated into the model."""
from __future__ import annotations

from enum import Enum
from typing import Literal, Optional

import pytest

pydantic = pytest.importorskip("pydantic")

import constrain.schema as cs  # noqa: E402


class Color(str, Enum):
    red = "red"
    blue = "blue"


class Address(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    street: str = pydantic.Field(max_length=40)
    zip: str = pydantic.Field(pattern=r"^[0-9]{5}$")


class Person(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")
    name: str
    age: int = pydantic.Field(ge=0, le=150)
    color: Color = Color.red
    nickname: Optional[str] = None
    kind: Literal["person"] = "person"
    address: Address
    scores: list[float] = pydantic.Field(default_factory=list, max_length=3)


def test_model_round_trip() -> None:
    c = cs.json_schema(Person)
    assert c.model is Person
    p = Person(name="Ada", age=36, color=Color.blue, address=Address(street="Main", zip="12345"), scores=[1.5, 2.0])
    text = c.dumps(p)
    assert c.accepts(text)
    assert c.parse(text) == p
    assert text.index('"name"') < text.index('"age"') < text.index('"address"')


def test_model_rejects_invalid_text() -> None:
    c = cs.json_schema(Person)
    assert not c.accepts('{"name":"A","age":-1,"address":{"street":"s","zip":"12345"}}')
    assert not c.accepts('{"name":"A","age":1,"address":{"street":"s","zip":"1234"}}')
    assert c.accepts('{"name":"A","age":1,"address":{"street":"s","zip":"12345"}}')
