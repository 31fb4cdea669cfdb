"""The one cattrs converter that turns models into plain JSON-ready data and back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from cattrs import transform_error
from cattrs.preconf.json import make_converter

from ._errors import ValidationError
from ._models import FieldValue

T = TypeVar("T")

_converter = make_converter(forbid_extra_keys=True)


def _structure_datetime(value: Any, _type: Any) -> datetime:
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(parsed, datetime) or parsed.utcoffset() is None:
        raise ValueError(f"expected a timezone-aware ISO 8601 datetime, got {value!r}")
    return parsed


def _structure_field_value(value: Any, _type: Any) -> FieldValue:
    # Custom field values are plain JSON but for dates, tagged so that a
    # string that looks like a date stays a string.
    if isinstance(value, list):
        return tuple(str(item) for item in value)
    if isinstance(value, dict) and set(value) == {"date"}:
        return date.fromisoformat(value["date"])
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"not a custom field value: {value!r}")


def _unstructure_field_value(value: FieldValue) -> Any:
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple):
        return list(value)
    return value


def _unstructure_fields(fields: Mapping[str, FieldValue]) -> dict[str, Any]:
    return {key: _unstructure_field_value(value) for key, value in fields.items()}


def _structure_fields(value: Any, _type: Any) -> dict[str, FieldValue]:
    if not isinstance(value, dict):
        raise ValueError(f"custom fields must be an object, got {value!r}")
    return {str(key): _structure_field_value(item, FieldValue) for key, item in value.items()}


def _is_field_values(type_: Any) -> bool:
    return bool(type_ == Mapping[str, FieldValue])


_converter.register_unstructure_hook(datetime, lambda value: value.isoformat())
_converter.register_structure_hook(datetime, _structure_datetime)
_converter.register_unstructure_hook(timedelta, lambda value: value.total_seconds())
_converter.register_structure_hook(timedelta, lambda value, _type: timedelta(seconds=value))
_converter.register_unstructure_hook_func(_is_field_values, _unstructure_fields)
_converter.register_structure_hook_func(_is_field_values, _structure_fields)


def to_data(model: object) -> Any:
    """A model as plain JSON-ready data (aware datetimes as ISO 8601 strings)."""
    return _converter.unstructure(model)


def from_data(data: Any, model_type: type[T]) -> T:
    """Rebuild a model of ``model_type`` from what :func:`to_data` made.

    :raises ValidationError: naming each bad or extra key, by its path (``$.added_at``).
    """
    try:
        return _converter.structure(data, model_type)
    except (BaseExceptionGroup, ValueError, TypeError, KeyError) as error:
        raise ValidationError(_error_messages(error)) from error


def _describe(error: BaseException, type_: type | None) -> str:
    if isinstance(error, ValueError):
        return str(error)
    if isinstance(error, KeyError):
        return "required field missing"
    # A union (``timedelta | None``) has no __name__ of its own.
    shown = getattr(type_, "__name__", str(type_))
    expected = f", expected {shown}" if type_ is not None else ""
    return f"invalid value{expected}: {error}"


def _error_messages(error: BaseException) -> dict[str, str]:
    messages: dict[str, str] = {}
    for line in transform_error(error, format_exception=_describe):
        message, _, path = line.rpartition(" @ ")
        messages[path or "$"] = message or line
    return messages
