"""The compiled schema types as JSON Schema (draft 2020-12), and Python jsonschema's errors
as (rule, path) pairs: an independent validator over the same schemas, for the test that
holds k8slint's own walk to it."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from k8slint.loader import is_templated
from k8slint.schemas import (
    ANY,
    BOOLEAN,
    BYTE,
    ENUM,
    INT_OR_STRING,
    INTEGER,
    LIST,
    MAP,
    MAPPING,
    NUMBER,
    OBJECT,
    QUANTITY,
    STRING,
    Type,
)
from k8slint.validate import json_key, unfilled

QUANTITY_PATTERN = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?$"


def as_json_schema(root: Type) -> dict:
    """The type as a JSON Schema document; every named object type is one of its $defs."""
    defs: dict[str, Any] = {}
    names: dict[int, str] = {}

    def convert(t: Type) -> dict:
        nullable = {"type": "null"}
        code = t.force().code
        if code == ANY:
            return {}
        if code == OBJECT:
            if id(t) not in names:
                names[id(t)] = f"t{len(names)}"
                body: dict[str, Any] = {"type": ["object", "null"],
                                        "properties": {}}
                defs[names[id(t)]] = body
                body["properties"] = {k: convert(v) for k, v in t.props.items()}
                if t.required:
                    body["required"] = list(t.required)
                if not t.open:
                    body["additionalProperties"] = False
                _limits(body, t)
            return {"$ref": f"#/$defs/{names[id(t)]}"}
        if code in (MAP, MAPPING):
            body = {"type": ["object", "null"]}
            if t.item is not None:
                body["additionalProperties"] = convert(t.item)
            return _limits(body, t)
        if code == LIST:
            return _limits({"type": ["array", "null"], "items": convert(t.item) if t.item else {}}, t)
        if code == STRING:
            return _limits({"type": ["string", "null"]}, t)
        if code == ENUM:
            return {"anyOf": [{"type": "null"}, {"type": "string", "enum": list(t.values)}]}
        if code == BYTE:
            return {"type": ["string", "null"], "format": "k8s-byte"}
        if code == INTEGER:
            return _limits({"type": ["integer", "null"]}, t)
        if code == NUMBER:
            return _limits({"type": ["number", "null"]}, t)
        if code == BOOLEAN:
            return {"type": ["boolean", "null"]}
        if code == QUANTITY:
            return {"anyOf": [nullable, {"type": "number"},
                              {"type": "string", "pattern": QUANTITY_PATTERN}]}
        if code == INT_OR_STRING:
            return {"type": ["integer", "string", "null"]}
        raise AssertionError(f"unknown type code {code}")

    top = convert(root)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$defs": defs, **top}


def _limits(body: dict, t: Type) -> dict:
    limits = t.limits
    if limits is None:
        return body
    if limits.minimum is not None:
        body["exclusiveMinimum" if limits.exclusive_minimum else "minimum"] = limits.minimum
    if limits.maximum is not None:
        body["exclusiveMaximum" if limits.exclusive_maximum else "maximum"] = limits.maximum
    body.update({key: value for key, value in (
        ("minLength", limits.min_length), ("maxLength", limits.max_length),
        ("minItems", limits.min_items), ("maxItems", limits.max_items)) if value is not None})
    if limits.pattern is not None:
        body["pattern"] = limits.pattern.pattern
    if limits.min_items is not None and "type" in body and "object" in body["type"]:
        body["minProperties"] = body.pop("minItems")
    if limits.max_items is not None and "type" in body and "object" in body["type"]:
        body["maxProperties"] = body.pop("maxItems")
    return body


def decoded(value: Any) -> Any:
    """The data as the API server decodes it: keys as JSON text, null fields absent."""
    if isinstance(value, dict):
        return {(k if isinstance(k, str) else json_key(k)): decoded(v) for k, v in value.items()
                if v is not None}
    if isinstance(value, list):
        return [decoded(v) for v in value]
    return value


def _is_byte(text: object) -> bool:
    if not isinstance(text, str) or unfilled(text):
        return True
    try:
        base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def jsonschema_problems(validator: Any, data: dict) -> set[tuple[str, tuple]]:
    """(rule, path) for every place Python jsonschema rejects, read as k8slint's rules."""
    found = set()
    for error in validator.iter_errors(decoded(data)):
        found.update(_read(error))
    return found


def _read(error: Any) -> set[tuple[str, tuple]]:
    path = tuple(error.absolute_path)
    instance = error.instance
    kind = error.validator
    if isinstance(instance, str):
        # Filled in before it reaches the API server: templated text anywhere, and
        # placeholders where a value that is not free text belongs.
        enum = kind == "anyOf" and any("enum" in s for s in error.validator_value)
        free_text = enum or kind in ("pattern", "minLength", "maxLength")
        if is_templated(instance) or (not free_text and unfilled(instance)):
            return set()
    if kind == "type" and isinstance(instance, dict) and len(instance) == 1:
        key, inner = next(iter(instance.items()))
        if inner is None and key.startswith("{") and key.endswith("}"):
            return set()  # {{ .Values.x }} unquoted: a template, not a value
    if kind == "additionalProperties":
        allowed = error.schema.get("properties", {})
        return {("unknown-field", path + (key,)) for key in instance
                if key not in allowed and not _template_key(key)}
    if kind == "required":
        if any(_template_key(key) for key in instance):
            return set()
        return {("missing-required-field", path)}
    if kind == "type":
        return {("invalid-field-type", path)}
    if kind == "anyOf":  # a quantity or an enum: a string of the wrong form, or another type
        schemas = error.validator_value
        string_allowed = any(s.get("type") == "string" for s in schemas)
        return {("invalid-field-value" if isinstance(instance, str) and string_allowed
                 else "invalid-field-type", path)}
    return {("invalid-field-value", path)}


def _template_key(key: str) -> bool:
    return is_templated(key) or (key.startswith("{") and key.endswith("}"))


def format_checker() -> Any:
    import jsonschema

    checker = jsonschema.FormatChecker(formats=())
    checker.checks("k8s-byte")(_is_byte)
    return checker
