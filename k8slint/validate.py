"""An object's data against its schema type, as the API server decodes it.

Decoding follows the API server's: scalars as its decoder reads them (the loader's), keys
that are not strings read as their JSON text (``1`` -> ``"1"``), and ``null`` accepted for
any field (the server reads it as "not set"), so a required field that is ``null`` is
missing.
Values that a template or envsubst fills in later are never judged.

One problem per place: a value of the wrong type is not also checked inside.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any, NamedTuple

from .findings import dotted, shortened
from .loader import is_templated, json_key
from .schemas import (
    ANY,
    BOOLEAN,
    BYTE,
    ENUM,
    FORMAT_RANGES,
    INT_OR_STRING,
    INTEGER,
    LAZY,
    LIST,
    MAP,
    MAPPING,
    NUMBER,
    OBJECT,
    QUANTITY,
    STRING,
    Limits,
    Type,
)

UNKNOWN_FIELD = "unknown-field"
INVALID_TYPE = "invalid-field-type"
MISSING_REQUIRED = "missing-required-field"
INVALID_VALUE = "invalid-field-value"


class Problem(NamedTuple):
    rule: str
    path: tuple  # from the object's root
    message: str
    missing: str = ""  # missing-required-field: the field that is missing


# A placeholder that a script replaces before applying (sed, envsubst with other syntax):
# a word in capitals (PORT, FILESTORE_CAPACITY), <angle brackets>, or an ellipsis. Where a
# value of another type belongs, such text is not judged, as templated values are not.
_PLACEHOLDER = r"(?s)[A-Z][A-Z0-9_]{2,}|.*<[^<>]*>.*|.*(?:\.\.\.|…).*"  # compiled on first use


def unfilled(text: str) -> bool:
    """Whether ``text`` is filled in before it reaches the API server."""
    return is_templated(text) or re.fullmatch(_PLACEHOLDER, text) is not None


def _template_braces(value: Any) -> bool:
    """A Helm expression left unquoted, ``name: {{ .Values.name }}``, which YAML reads as
    a mapping whose one key is a mapping: a template, not a value."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    key, inner = next(iter(value.items()))
    return inner is None and _key_braces(key)


def _key_braces(key: Any) -> bool:
    """A key that was a mapping (``{{ ... }}`` read by YAML), which the loader keeps as text."""
    return isinstance(key, str) and key.startswith("{") and key.endswith("}")


_PERCENT = r"[0-9]+%"  # compiled on first use (re's cache)
MAX_SHOWN_VALUES = 12  # allowed values a message lists
MAX_CANDIDATES = 500  # fields or values a spelling suggestion is sought among

# A resource quantity: a decimal number, then a binary (Ki..Ei) or decimal (n..E) suffix,
# or a decimal exponent.
_QUANTITY = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?\d+)?")


def validate(data: dict, root: Type, *, partial: bool = False) -> list[Problem]:
    """The problems of one object. ``partial``: a fragment (a patch), whose required
    fields live elsewhere."""
    walker = _Walker(partial)
    walker.walk(data, root, [])
    return walker.problems


# Levels of an object the walk descends: real objects nest a few dozen; deeper data (only
# under a recursive schema, a CRD's own openAPIV3Schema) is a hostile file's, and is not
# looked into, so the walk never nears Python's stack limit.
MAX_WALK_DEPTH = 200
# Spelling suggestions per object: each costs a comparison with every field of the type.
MAX_SUGGESTIONS = 50


class _Walker:
    __slots__ = ("partial", "problems", "suggested")

    def __init__(self, partial: bool):
        self.partial = partial
        self.problems: list[Problem] = []
        self.suggested = 0

    def walk(self, value: Any, t: Type, path: list) -> None:
        code = t.code
        if code == LAZY:
            code = t.force().code
        if value is None or code == ANY or len(path) > MAX_WALK_DEPTH:
            return
        kind = type(value)
        if code == OBJECT:
            if kind is not dict:
                self._wrong_type(value, t, path)
                return
            self._object(value, t, path)
        elif code in (MAP, MAPPING):
            if kind is not dict:
                self._wrong_type(value, t, path)
                return
            if t.item is not None:
                self._each(value.items(), t.item, path)
            if t.limits is not None:
                self._size(value, t.limits, path, "field")
        elif code == LIST:
            if kind is not list:
                self._wrong_type(value, t, path)
                return
            if t.item is not None:
                self._each(enumerate(value), t.item, path)
            if t.limits is not None:
                self._size(value, t.limits, path, "item")
        elif code == STRING:
            if kind is not str:
                self._wrong_type(value, t, path)
            elif t.limits is not None:
                self._text(value, t.limits, path)
        elif code == ENUM:
            if kind is not str:
                self._wrong_type(value, t, path)
            elif value not in t.values and value and not is_templated(value):
                self._not_in_set(value, t, path)  # ("" is unset: the server's default)
        elif code == INTEGER:
            if kind is int or (kind is float and value.is_integer()):
                if t.limits is not None:
                    self._number(value, t.limits, path)
            else:
                self._wrong_type(value, t, path)
        elif code == NUMBER:
            if kind is int or kind is float:
                if t.limits is not None:
                    self._number(value, t.limits, path)
            else:
                self._wrong_type(value, t, path)
        elif code == BOOLEAN:
            if kind is not bool:
                self._wrong_type(value, t, path)
        elif code == QUANTITY:
            if kind is str:
                if not _QUANTITY.fullmatch(value) and not unfilled(value):
                    self._add(INVALID_VALUE, path, (
                        f"{dotted(path)} is {_quoted(value)}, which is not a quantity (a number "
                        f"with an optional suffix, such as 512Mi, 2Gi, 250m or 1.5): the API "
                        f"server rejects the object"))
            elif not (kind is int or kind is float):
                self._wrong_type(value, t, path)
        elif code == INT_OR_STRING:
            if not (kind is int or kind is str or (kind is float and value.is_integer())):
                self._wrong_type(value, t, path)
            elif kind is str and t.values and not re.fullmatch(_PERCENT, value) and not unfilled(value):
                self._add(INVALID_VALUE, path, (
                    f"{dotted(path)} is {_quoted(value)}: as text it must be a percentage such "
                    f"as 25%, else a whole number: the API server rejects the object"))
        elif code == BYTE:
            if kind is not str:
                self._wrong_type(value, t, path)
            elif not _is_base64(value) and not unfilled(value):
                self._add(INVALID_VALUE, path, (
                    f"{dotted(path)} is not valid base64: the API server decodes it as base64 "
                    f"and rejects the object{_plain_text_hint(path)}"))

    def _each(self, entries: Iterable[tuple[Any, Any]], item: Type, path: list) -> None:
        """The values of a map or the items of a list, each against ``item``."""
        if item.force().code == ANY:
            return
        plain = item.plain
        for step, sub in entries:
            if sub is not None and sub.__class__ is not plain:
                path.append(step)
                self.walk(sub, item, path)
                path.pop()

    def _object(self, value: dict, t: Type, path: list) -> None:
        props = t.props
        walk = self.walk
        templated_keys = False
        meant: set[str] = set()  # fields that unknown keys were probably meant to be
        for key, sub in value.items():
            field = props.get(key) if key.__class__ is str else props.get(json_key(key))
            if field is None:
                name = key if key.__class__ is str else json_key(key)
                if is_templated(name) or _key_braces(name):
                    templated_keys = True
                elif not t.open:
                    guess = self._unknown(name, key, t, path)
                    if guess:
                        meant.add(guess)
                continue
            if sub is None or sub.__class__ is field.plain or field.code == ANY:
                continue  # nothing to look at: a plain value where any such value goes
            path.append(key)
            walk(sub, field, path)
            path.pop()
        if t.required and not self.partial and not templated_keys:
            for name in t.required:
                # A misspelt required field is one mistake: its unknown-field says so.
                if value.get(name) is None and name not in meant:
                    self.problems.append(Problem(MISSING_REQUIRED, tuple(path), (
                        f"{dotted(path) or 'the object'} has no {name}, which {t.name or 'it'} "
                        f"requires: the API server rejects the object"), name))

    # --- messages ------------------------------------------------------------------------

    def _add(self, rule: str, path: list, message: str) -> None:
        self.problems.append(Problem(rule, tuple(path), message))

    def _unknown(self, name: str, key: Any, t: Type, path: list) -> str | None:
        """Report an unknown key; the field it was probably meant to be, if one is near."""
        guess = None
        if self.suggested < MAX_SUGGESTIONS:
            self.suggested += 1
            guess = closest(name, t.props)
        hint = f' (did you mean "{guess}"?)' if guess else ""
        where = dotted(path + [key])
        self._add(UNKNOWN_FIELD, path + [key], (
            f"{where} is not a field of {t.name or 'this object'}{hint}: strict field "
            f"validation rejects the object, and lenient decoding drops the field silently"))
        return guess

    def _wrong_type(self, value: Any, t: Type, path: list) -> None:
        if (isinstance(value, str) and unfilled(value)) or _template_braces(value):
            return
        expected = expected_text(t)
        hint = ""
        if t.code in (STRING, ENUM, BYTE) and isinstance(value, (bool, int, float)):
            hint = "; quote it to keep it text"
        self._add(INVALID_TYPE, path, (
            f"{dotted(path)} must be {expected}, not {type_text(value)}{_shown(value)}: the "
            f"API server rejects the object{hint}"))

    def _not_in_set(self, value: str, t: Type, path: list) -> None:
        guess = closest(value, t.values)
        hint = f' (did you mean "{guess}"?)' if guess else ""
        shown = [v or '""' for v in t.values[:MAX_SHOWN_VALUES]]
        more = len(t.values) - len(shown)
        allowed = ", ".join(shown) + (f" and {more} more" if more else "")
        self._add(INVALID_VALUE, path, (
            f"{dotted(path)} is {_quoted(value)}, not one of {allowed}{hint}: the API server "
            f"rejects the object"))

    def _number(self, value: float, limits: Limits, path: list) -> None:
        low, high = limits.minimum, limits.maximum
        too_low = low is not None and (value <= low if limits.exclusive_minimum else value < low)
        too_high = high is not None and (value >= high if limits.exclusive_maximum else value > high)
        if not (too_low or too_high):
            return
        if limits.integer_format and (low, high) == _format_range(limits.integer_format):
            bound = f"outside the {limits.integer_format} range"
        elif too_low:
            strict = "exclusive " if limits.exclusive_minimum else ""
            bound = f"below the {strict}minimum {_number_text(low)}"
        else:
            strict = "exclusive " if limits.exclusive_maximum else ""
            bound = f"above the {strict}maximum {_number_text(high)}"
        self._add(INVALID_VALUE, path, f"{dotted(path)} is {_number_text(value)}, {bound}: the "
                                       f"API server rejects the object")

    def _text(self, value: str, limits: Limits, path: list) -> None:
        if is_templated(value):
            return
        problem = None
        if limits.min_length is not None and len(value) < limits.min_length:
            problem = f"shorter than {limits.min_length} characters"
        elif limits.max_length is not None and len(value) > limits.max_length:
            problem = f"longer than {limits.max_length} characters"
        elif limits.pattern is not None and not limits.pattern.search(value):
            problem = f"does not match the pattern {limits.pattern.pattern}"
        if problem:
            self._add(INVALID_VALUE, path, f"{dotted(path)} is {_quoted(value)}, {problem}: "
                                           f"the API server rejects the object")

    def _size(self, value: dict | list, limits: Limits, path: list, what: str) -> None:
        if limits.min_items is not None and len(value) < limits.min_items:
            problem = f"fewer than {limits.min_items} {what}s"
        elif limits.max_items is not None and len(value) > limits.max_items:
            problem = f"more than {limits.max_items} {what}s"
        else:
            return
        self._add(INVALID_VALUE, path, f"{dotted(path)} has {problem}: the API server rejects "
                                       f"the object")


def _format_range(fmt: str) -> tuple[int, int]:
    return FORMAT_RANGES[fmt]


def _is_base64(text: str) -> bool:
    try:
        base64.b64decode(text.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _plain_text_hint(path: list) -> str:
    return "; plain text belongs under stringData" if path[:1] == ["data"] else ""


def expected_text(t: Type) -> str:
    code = t.code
    if code == OBJECT:
        return f"a mapping ({t.name})" if t.name else "a mapping"
    return {
        MAP: "a mapping",
        MAPPING: "a mapping",
        LIST: "a list",
        STRING: "a string",
        ENUM: "a string",
        BYTE: "a string (base64)",
        INTEGER: "an integer",
        NUMBER: "a number",
        BOOLEAN: "true or false",
        QUANTITY: "a quantity (a number, or a string such as 512Mi)",
        INT_OR_STRING: "an integer or a string",
    }.get(code, "something else")


def type_text(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return "something else"


def _shown(value: Any) -> str:
    """The value itself, briefly, after its type: scalars only."""
    if isinstance(value, bool):
        return f" ({'true' if value else 'false'})"
    if isinstance(value, (int, float)):
        return f" ({_number_text(value)})"
    if isinstance(value, str):
        return f" ({_quoted(value)})"
    return ""


def _quoted(text: str, limit: int = 60) -> str:
    text = shortened(text, limit)
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _number_text(value: float | None) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return str(value)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate ``word`` most likely meant: the same word in other case, else the
    nearest by spelling (None when nothing is near). Spelling is compared only for short
    words among at most MAX_CANDIDATES candidates: beyond, the comparison costs more than
    the suggestion is worth."""
    if len(word) > 100:
        return None  # no field or value is that long: nothing to compare it with
    lowered = word.lower()
    candidates = list(candidates)
    for candidate in candidates:
        if candidate.lower() == lowered:
            return candidate
    if len(candidates) > MAX_CANDIDATES:
        return None
    import difflib

    by_lower = {c.lower(): c for c in candidates if c}
    found = difflib.get_close_matches(lowered, list(by_lower), n=1, cutoff=0.75)
    return by_lower[found[0]] if found else None
