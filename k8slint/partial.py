"""What linting gave, as plain JSON and back: the records a shard's partial is made of.

A partial (``k8slint check --shard K/N --partial FILE``, docs/partials.md) carries each
file's ``FileResult``: its findings, cross-object facts, suppressions, counts and CRDs.
Everything is plain JSON, never pickle: a partial comes from another machine, so reading
one constructs only the records named in ``RECORDS``, each checked field by field against
its declaration, and anything else is a ``PartialError`` with a one-line reason.

The value encoding (``encode`` / ``decode``) is exact: tuples, frozensets, dicts with keys
that are not strings, and the records all come back as they were, so that a finding read
from a partial equals the one the shard made (a later result cache can store the same).
"""

from __future__ import annotations

from typing import Any

from .catalog import RuleMeta
from .custom import CustomRule
from .engine import FileResult
from .etcd import EtcdBackup
from .findings import Finding, ObjectRef
from .fixes import Edit, Fix
from .index import Anchor, EtcdFacts, Facts, ServicePort, Serving
from .loader import Position
from .references import Made, Reference
from .render import UnitReport
from .schemas import CrdVersion
from .suppress import Suppression

# Every record a partial may hold, by the name it is written under.
RECORDS: dict[str, type] = {cls.__name__: cls for cls in (
    Finding, ObjectRef, Fix, Edit, Suppression, Facts, Anchor, Position, Reference, Made,
    ServicePort, Serving, EtcdFacts, EtcdBackup, CrdVersion, UnitReport, CustomRule, RuleMeta,
)}
_BASIC = {"str": (str,), "int": (int,), "float": (float, int), "bool": (bool,), "None": (type(None),),
          "tuple": (tuple,), "dict": (dict,), "frozenset": (frozenset,), "set": (set,),
          "list": (list,)}


class PartialError(ValueError):
    """A partial that cannot be read: corrupt, truncated, foreign or of another version."""


def outer_types(annotation: Any) -> tuple[type, ...] | None:
    """The outer types a field's annotation allows (``str | None``: str and NoneType);
    None where it allows anything."""
    text = getattr(annotation, "__forward_arg__", annotation)  # NamedTuple keeps ForwardRefs
    if not isinstance(text, str):
        return None
    found: list[type] = []
    for part in text.split("|"):
        name = part.strip().split("[", 1)[0]
        if name == "Any":
            return None
        if name in _BASIC:
            found.extend(_BASIC[name])
        elif name in RECORDS:
            found.append(RECORDS[name])
        else:
            return None
    return tuple(found)


_FIELD_TYPES: dict[str, tuple[tuple[str, tuple[type, ...] | None], ...]] = {
    name: tuple((field, outer_types(cls.__annotations__.get(field, "Any"))) for field in cls._fields)  # type: ignore[attr-defined]
    for name, cls in RECORDS.items()
}


def encode(value: Any) -> Any:
    """``value`` as JSON data: scalars and lists as they are; tuples, sets, frozensets,
    dicts that JSON cannot hold as objects, and records tagged with a ``$`` key."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    name = type(value).__name__
    if isinstance(value, tuple):
        if name in RECORDS and type(value) is RECORDS[name]:
            return {"$": name, "v": [encode(v) for v in value]}
        return {"$t": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, (frozenset, set)):
        items = sorted((encode(v) for v in value), key=repr)  # the same text every run
        return {"$f" if isinstance(value, frozenset) else "$s": items}
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {"$d": [[encode(k), encode(v)] for k, v in value.items()]}
    raise PartialError(f"cannot write a value of type {name} into a partial")


def decode(data: Any) -> Any:
    """The value ``encode`` wrote; PartialError for anything else."""
    try:
        return _decode(data)
    except PartialError:
        raise
    except (TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
        raise PartialError(f"malformed value ({type(exc).__name__}: {exc})") from None


def _decode(data: Any) -> Any:
    if data is None or isinstance(data, (str, bool, int, float)):
        return data
    if isinstance(data, list):
        return [_decode(v) for v in data]
    if not isinstance(data, dict):
        raise PartialError(f"unexpected {type(data).__name__}")
    if not any(k.startswith("$") for k in data):
        return {k: _decode(v) for k, v in data.items()}
    if len(data) == 1:
        (tag, inner), = data.items()
        if isinstance(inner, list):
            if tag == "$t":
                return tuple(_decode(v) for v in inner)
            if tag == "$f":
                return frozenset(_decode(v) for v in inner)
            if tag == "$s":
                return {_decode(v) for v in inner}
            if tag == "$d":
                return {_decode(k): _decode(v) for k, v in inner}
    if set(data) == {"$", "v"} and isinstance(data["v"], list):
        return _record(data["$"], [_decode(v) for v in data["v"]])
    raise PartialError(f"unknown tagged value with keys {sorted(data)[:3]}")


def decode_hook(data: dict) -> Any:
    """``decode`` for one JSON object whose values are decoded already: the
    ``object_hook`` of ``json.loads``, which decodes a whole document in one pass of the
    C parser (the result cache reads thousands of entries; the recursive walk costs
    several times as much). The same values and the same refusals as ``decode``."""
    size = len(data)
    if size == 1:
        (tag, inner), = data.items()
        if tag[:1] != "$":
            return data
        if isinstance(inner, list):
            try:
                if tag == "$t":
                    return tuple(inner)
                if tag == "$f":
                    return frozenset(inner)
                if tag == "$s":
                    return set(inner)
                if tag == "$d":
                    return dict(inner)
            except (TypeError, ValueError) as exc:
                raise PartialError(f"malformed value ({type(exc).__name__}: {exc})") from None
    elif size == 2 and "$" in data and isinstance(data.get("v"), list):
        return _record(data["$"], data["v"])
    elif not any(k[:1] == "$" for k in data):
        return data
    raise PartialError(f"unknown tagged value with keys {sorted(data)[:3]}")


def _record(name: Any, values: list) -> Any:
    cls = RECORDS.get(name) if isinstance(name, str) else None
    if cls is None:
        raise PartialError(f"unknown record {name!r}")
    fields = _FIELD_TYPES[name]
    if len(values) != len(fields):
        raise PartialError(f"a {name} with {len(values)} fields (expected {len(fields)})")
    for (field, allowed), value in zip(fields, values, strict=True):
        if allowed is not None and not isinstance(value, allowed):
            raise PartialError(f"{name}.{field} is a {type(value).__name__}")
    return cls(*values)


# --- FileResult ------------------------------------------------------------------------------

_RESULT_FIELDS: dict[str, tuple[type, ...]] = {
    "findings": (list,), "documents": (int,), "objects": (int,), "errors": (list,),
    "suppressions": (list,), "facts": (list,), "context": (bool,), "notManifest": (bool,),
    "schemaless": (dict,), "crds": (list,), "customGroups": (set,), "group": (str,),
    "unit": (UnitReport, type(None)), "origins": (set,),
}
_LIST_ITEMS: dict[str, type] = {"findings": Finding, "errors": str, "suppressions": Suppression,
                                "facts": Facts, "crds": CrdVersion}


def encode_result(result: FileResult) -> dict:
    """One file's (or unit's) result as JSON data, without the source it was read from."""
    return {
        "findings": encode(result.findings),
        "documents": result.documents,
        "objects": result.objects,
        "errors": list(result.errors),
        "suppressions": encode(result.suppressions),
        "facts": encode(result.facts),
        "context": result.context,
        "notManifest": result.not_manifest,
        "schemaless": dict(result.schemaless),
        "crds": encode(result.crds),
        "customGroups": encode(set(result.custom_groups)),
        "group": result.group,
        "unit": encode(result.unit),
        "origins": encode(set(result.origins)),
    }


def decode_result(data: Any, decoded: bool = False) -> FileResult:
    """A ``FileResult`` from ``encode_result``'s data, every field checked; ``decoded``:
    its values were read with ``decode_hook`` already."""
    if not isinstance(data, dict) or set(data) != set(_RESULT_FIELDS):
        raise PartialError("a file result without the expected fields")
    values = dict(data) if decoded else {key: decode(value) for key, value in data.items()}
    for key, allowed in _RESULT_FIELDS.items():
        if not isinstance(values[key], allowed):
            raise PartialError(f"a file result's {key} is a {type(values[key]).__name__}")
    for key, item in _LIST_ITEMS.items():
        if not all(isinstance(v, item) for v in values[key]):
            raise PartialError(f"a file result's {key} holds something that is no {item.__name__}")
    if not all(isinstance(k, str) and isinstance(v, int) for k, v in values["schemaless"].items()):
        raise PartialError("a file result's schemaless counts are not numbers by kind")
    result = FileResult(errors=values["errors"], context=values["context"])
    result.findings = values["findings"]
    result.documents = values["documents"]
    result.objects = values["objects"]
    result.suppressions = values["suppressions"]
    result.facts = values["facts"]
    result.not_manifest = values["notManifest"]
    result.schemaless = values["schemaless"]
    result.crds = values["crds"]
    result.custom_groups = values["customGroups"]
    result.group = values["group"]
    result.unit = values["unit"]
    result.origins = values["origins"]
    return result


def decode_findings(data: Any, what: str) -> list[Finding]:
    found = decode(data)
    if not isinstance(found, list) or not all(isinstance(f, Finding) for f in found):
        raise PartialError(f"{what} is not a list of findings")
    return found

