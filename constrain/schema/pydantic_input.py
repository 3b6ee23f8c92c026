"""pydantic v2 models as schema input: the model's JSON Schema in, model instances out."""
from __future__ import annotations

from typing import Any


def is_model_class(obj: Any) -> bool:
    """Whether ``obj`` is a pydantic v2 ``BaseModel`` subclass (without importing pydantic eagerly)."""
    if not isinstance(obj, type):
        return False
    return hasattr(obj, "model_json_schema") and hasattr(obj, "model_validate")


def model_schema(model: type) -> dict:
    """The model's JSON Schema in validation mode (the shape its input must have)."""
    return model.model_json_schema(mode="validation")  # type: ignore[attr-defined]


def validate(model: type, value: Any) -> Any:
    """A model instance from parsed JSON (raises pydantic's ``ValidationError`` when invalid)."""
    return model.model_validate(value)  # type: ignore[attr-defined]
