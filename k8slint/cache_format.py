"""A result cache entry's layout: each record a JSON list of its fields in declaration order,
read back by what each field is declared to hold.

A warm run reads an entry for every source of the run, so reading one must cost little:
shard partials (partial.py) tag every record and tuple with a JSON object, which the
reader turns back one object at a time; here a record is a plain list, and what a field
holds is known from its declaration (``path: tuple``, ``fix: Fix | None``,
``anchors: dict[str, Anchor]``), so most fields are checked by type alone and a record is
made in one step. A record's fields are checked together: the tuple of their JSON types
is compared with the declarations once, and a combination seen valid is not checked again.

What the reader builds is what the writer was given, exactly: a field declared a tuple,
set or mapping of records holds them as such; a field whose declaration says less
(``value: Any``, ``pod_labels: dict | None``) is written in the partial format's exact
encoding (``partial.encode``) and read back by ``partial.decode``. A value that does not
fit its declaration (a tuple holding a mapping, a mapping with keys that are not strings)
is refused when written (``EntryError``), and the result is simply not kept.

The text of CRD schemas, most of an entry's bytes when a file defines CRDs, is kept out of
the JSON: after the JSON document and a newline come the texts themselves, UTF-8, and the
schema field holds the text's byte length (the texts follow each other in the order of
the records). Slicing them costs nothing next to scanning escaped JSON strings.

A reader builds only the records of ``partial.RECORDS`` and checks every field; anything
else in an entry (a hostile or damaged one) is an ``EntryError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import repeat
from json.scanner import make_scanner
from typing import Any, cast

from .engine import FileResult
from .findings import Finding
from .index import Facts
from .partial import RECORDS, PartialError, decode, encode, outer_types
from .render import UnitReport
from .schemas import CrdVersion
from .suppress import Suppression

_SCAN = make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # (value, end) of the JSON at a place
_NONE = type(None)
_SCALAR_NAMES = {"str": (str,), "int": (int,), "float": (float, int), "bool": (bool,),
                 "None": (_NONE,)}
_SCALARS: frozenset[type] = frozenset((str, int, float, bool, _NONE))
_STRING: frozenset[type] = frozenset((str,))


class EntryError(ValueError):
    """An entry that is not what this layout writes, or a value it cannot hold exactly."""


class _Field:
    """How one declared field is written and read: the JSON types it may take, and, when
    its JSON is not the value itself, how it is turned back (``read``) and written."""

    def __init__(self, json_types: frozenset[type], read: Callable[[Any], Any] | None,
                 write: Callable[[Any], Any], null: Any = None,
                 link: Callable[[Callable[[Any], Any]], Callable[[Any], Any]] | None = None,
                 record: str = ""):
        self.json_types = json_types
        self.read = read
        self.write = write
        self.null = null  # what a JSON null reads as
        # A field of records: ``link`` makes its reader from the record's own, once every
        # record's reader exists (below ``_RECORDS``), so that reading calls it directly.
        self.link = link
        self.record = record


def _scalar(types: tuple[type, ...]) -> _Field:
    allowed = frozenset(types)

    def write(value: Any) -> Any:
        if type(value) not in allowed:
            raise EntryError(f"a {type(value).__name__} where {sorted(t.__name__ for t in allowed)}")
        return value

    return _Field(allowed, None, write)


def _scalars_in(container: type, optional: bool) -> _Field:
    """A tuple, frozenset or set of scalars (a path, a unit, flags): a JSON list. An empty
    tuple or frozenset where the field cannot be None is written null: most objects have
    no flags, budget or references, and a null is read back without a call."""
    empty = container() if not optional and container is not set else None

    def read(value: Any) -> Any:
        if not _SCALARS.issuperset(map(type, value)):
            raise EntryError(f"a {container.__name__} holding something that is not a scalar")
        return container(value)

    def write(value: Any) -> Any:
        if value is None and optional:
            return None
        items: Any = value
        if type(value) is not container or not _SCALARS.issuperset(map(type, items)):
            raise EntryError(f"not a {container.__name__} of scalars: {type(value).__name__}")
        return list(items) if items or empty is None else None

    return _Field(frozenset((list, _NONE) if optional or empty is not None else (list,)), read,
                  write, empty)


def _generic(annotation: Any = "Any") -> _Field:
    """A value its declaration says little about: the partial format's exact encoding,
    of one of the outer types the declaration allows (``dict | None``: a mapping or null)."""
    allowed = outer_types(annotation)

    def read(value: Any) -> Any:
        kind = type(value)
        if kind in _SCALARS:  # an edit's new value, mostly
            decoded = value
        elif (kind is dict and _STRING.issuperset(map(type, value.values()))
                and not any(map(str.startswith, value, repeat("$")))):
            decoded = value  # labels, a selector: no tag to read, strings as they are
        else:
            try:
                decoded = decode(value)
            except PartialError as exc:
                raise EntryError(str(exc)) from None
        if allowed is not None and not isinstance(decoded, allowed):
            raise EntryError(f"a {type(decoded).__name__} where {annotation} is declared")
        return decoded

    def write(value: Any) -> Any:
        try:
            return encode(value)
        except PartialError as exc:
            raise EntryError(str(exc)) from None

    return _Field(_SCALARS | {list, dict}, read, write)


def _one_record(name: str, optional: bool) -> _Field:
    def write(value: Any) -> Any:
        if value is None and optional:
            return None
        return _RECORDS[name].write(value)

    return _Field(frozenset((list, _NONE) if optional else (list,)), None, write,
                  link=lambda record: record, record=name)


def _record_tuple(name: str, optional: bool) -> _Field:
    """A tuple of records, written null when it is empty and the field cannot be None."""

    def link(record: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def read(value: Any) -> Any:
            return tuple([record(item) for item in value])
        return read

    def write(value: Any) -> Any:
        if value is None and optional:
            return None
        if type(value) is not tuple:
            raise EntryError(f"not a tuple of {name}: {type(value).__name__}")
        record = _RECORDS[name].write
        return [record(item) for item in value] if value or optional else None

    return _Field(frozenset((list, _NONE)), None, write, None if optional else (), link, name)


def _record_mapping(name: str) -> _Field:
    def link(record: Callable[[Any], Any]) -> Callable[[Any], Any]:
        def read(value: Any) -> Any:
            return {key: record(item) for key, item in value.items()}
        return read

    def write(value: Any) -> Any:
        if type(value) is not dict or not all(type(key) is str for key in value):
            raise EntryError(f"not a mapping of strings to {name}")
        record = _RECORDS[name].write
        return {key: record(item) for key, item in value.items()}

    return _Field(frozenset((dict,)), None, write, link=link, record=name)


def _field(annotation: Any) -> _Field:
    """What a field's declaration (its annotation's text) says it holds."""
    text = getattr(annotation, "__forward_arg__", annotation)
    if not isinstance(text, str):
        return _generic(annotation)
    # "tuple[str | None, ...] | None" keeps its brackets whole: split outside them only.
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text + "|"):
        if char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    optional = "None" in parts
    rest = [part for part in parts if part != "None"]
    if all(part in _SCALAR_NAMES for part in parts):
        return _scalar(tuple(t for part in parts for t in _SCALAR_NAMES[part]))
    if len(rest) != 1:
        return _generic(annotation)
    outer, _, inner = rest[0].partition("[")
    inner = inner[:-1].strip()
    if outer in RECORDS and not inner:
        return _one_record(outer, optional)
    if outer == "tuple" and inner.endswith(", ...") and inner[:-5].strip() in RECORDS:
        return _record_tuple(inner[:-5].strip(), optional)
    if outer == "dict" and inner.startswith("str,") and inner[4:].strip() in RECORDS:
        return _record_mapping(inner[4:].strip()) if not optional else _generic(annotation)
    if outer in ("tuple", "frozenset", "set") and all(
            name.strip() in _SCALAR_NAMES or name.strip() == "..."
            for name in inner.replace("|", ",").split(",") if inner):
        return _scalars_in({"tuple": tuple, "frozenset": frozenset, "set": set}[outer], optional)
    return _generic(annotation)


class _Record:
    """One record type's reader and writer, from its fields' declarations."""

    def __init__(self, cls: type):
        self.cls = cls
        self.names: tuple[str, ...] = cls._fields  # type: ignore[attr-defined]
        annotations = cls.__annotations__
        self.fields = tuple(_field(annotations.get(name, "Any")) for name in self.names)
        self.read = self._reader()

    def _reader(self) -> Callable[[Any], Any]:
        """``read(row)``: the record a JSON list holds, or EntryError. A closure, as it runs
        for every record of every entry."""
        cls, size, fields, names, make = self.cls, len(self.fields), self.fields, self.names, tuple.__new__
        # The JSON types of rows seen valid -> the fields such a row turns back, and the
        # nulls that read as something else (an empty tuple).
        plans: dict[tuple[type, ...], tuple[tuple, tuple]] = {}

        def plan_for(kinds: tuple[type, ...]) -> tuple[tuple, tuple]:
            for field, kind, name in zip(fields, kinds, names, strict=True):
                if kind not in field.json_types:
                    raise EntryError(f"{cls.__name__}.{name} is a {kind.__name__}")
            pairs = list(enumerate(zip(fields, kinds, strict=True)))
            plan = (tuple((i, f.read) for i, (f, kind) in pairs if f.read is not None and kind is not _NONE),
                    tuple((i, f.null) for i, (f, kind) in pairs if kind is _NONE and f.null is not None))
            plans[kinds] = plan
            return plan

        def read(row: Any) -> Any:
            if type(row) is not list or len(row) != size:
                raise EntryError(f"a {cls.__name__} that is no list of {size} fields")
            kinds = tuple(map(type, row))
            turned, nulls = plans.get(kinds) or plan_for(kinds)
            for i, turn in turned:
                row[i] = turn(row[i])
            for i, null in nulls:
                row[i] = null
            return make(cls, row)

        return read

    def write(self, value: Any) -> list:
        if value.__class__ is not self.cls:
            raise EntryError(f"not a {self.cls.__name__}: {type(value).__name__}")
        return [field.write(item) for field, item in zip(self.fields, cast(tuple, value), strict=True)]


_RECORDS: dict[str, _Record] = {name: _Record(cls) for name, cls in RECORDS.items()}
for _kept in _RECORDS.values():  # fields of records read by the records' own readers
    for _one in _kept.fields:
        if _one.link is not None:
            _one.read = _one.link(_RECORDS[_one.record].read)
_FINDING, _SUPPRESSION, _FACTS = _RECORDS["Finding"], _RECORDS["Suppression"], _RECORDS["Facts"]
_CRD, _UNIT = _RECORDS["CrdVersion"], _RECORDS["UnitReport"]
_SCHEMA = CrdVersion._fields.index("schema")
assert (_FINDING.cls, _SUPPRESSION.cls, _FACTS.cls, _UNIT.cls) == (Finding, Suppression, Facts, UnitReport)


def dump_result(result: FileResult, head: dict[str, Any]) -> bytes:
    """An entry: ``head`` (format, version, key) with the result, then the schema texts."""
    texts: list[bytes] = []
    crds = []
    for crd in result.crds:
        row = _CRD.write(crd)
        if crd.schema is not None:
            texts.append(crd.schema.encode("utf-8", "surrogatepass"))
            row[_SCHEMA] = len(texts[-1])
        crds.append(row)
    if not all(type(f) is Finding for f in result.findings):
        raise EntryError("a finding that is not a Finding")
    fields = [
        [_FINDING.write(f) for f in result.findings], _count(result.documents),
        _count(result.objects), _strings(result.errors),
        [_SUPPRESSION.write(s) for s in result.suppressions], [_FACTS.write(f) for f in result.facts],
        _flag(result.context), _flag(result.not_manifest), _counts(result.schemaless), crds,
        _strings(result.custom_groups), _string(result.group),
        None if result.unit is None else _UNIT.write(result.unit), _strings(result.origins),
    ]
    try:
        text = json.dumps({**head, "result": fields}, separators=(",", ":"), allow_nan=False)
    except ValueError as exc:  # a float JSON cannot hold exactly
        raise EntryError(str(exc)) from None
    return b"\n".join((text.encode("ascii"), *texts))


def load_result(data: bytes) -> tuple[dict[str, Any], FileResult]:
    """The head and the result of an entry ``dump_result`` wrote; EntryError for anything
    else."""
    end = data.find(b"\n")
    if end < 0:
        end = len(data)
    try:
        text = data[:end].decode("ascii")
        entry, stop = _SCAN(text, 0)  # json.loads less its layers of Python
    except (ValueError, RecursionError, StopIteration) as exc:
        raise EntryError(f"no JSON: {exc!r}") from None
    if stop != len(text):
        raise EntryError("more than one JSON document")
    if type(entry) is not dict or type(entry.get("result")) is not list:
        raise EntryError("no result")
    fields = entry.pop("result")
    if len(fields) != 14:
        raise EntryError("a result without its 14 fields")
    (findings, documents, objects, errors, suppressions, facts, context, not_manifest, schemaless,
     crds, custom_groups, group, unit, origins) = fields
    kinds = tuple(map(type, fields))
    if kinds not in _RESULT_KINDS:
        raise EntryError("a result's fields of the wrong types")
    result = FileResult(errors=_read_strings(errors), context=context)
    finding, suppression, fact = _FINDING.read, _SUPPRESSION.read, _FACTS.read
    result.findings = [finding(f) for f in findings]
    result.documents = documents
    result.objects = objects
    result.suppressions = [suppression(s) for s in suppressions]
    result.facts = [fact(f) for f in facts]
    result.not_manifest = not_manifest
    if not all(type(k) is str and type(v) is int for k, v in schemaless.items()):
        raise EntryError("a result's schemaless counts are not numbers by kind")
    result.schemaless = schemaless
    result.crds = _read_crds(crds, data, end + 1)
    result.custom_groups = set(_read_strings(custom_groups))
    result.group = group
    result.unit = None if unit is None else _UNIT.read(unit)
    result.origins = set(_read_strings(origins))
    return entry, result


_RESULT_KINDS = frozenset(
    (list, int, int, list, list, list, bool, bool, dict, list, list, str, unit, list)
    for unit in (list, _NONE)
)


def _read_crds(rows: list, data: bytes, start: int) -> list[CrdVersion]:
    crds = []
    for row in rows:
        if type(row) is not list or len(row) != len(_CRD.fields):
            raise EntryError("a CRD version that is no list of its fields")
        size = row[_SCHEMA]
        if size is not None:
            if type(size) is not int or size < 0 or start + size > len(data):
                raise EntryError("a CRD schema outside the entry")
            try:
                row[_SCHEMA] = data[start:start + size].decode("utf-8", "surrogatepass")
            except UnicodeDecodeError as exc:
                raise EntryError(f"a CRD schema that is no text: {exc}") from None
            start += size
            if start < len(data) and data[start] != 0x0A:
                raise EntryError("schema texts not one to a line")
            start += 1
        crds.append(_CRD.read(row))
    if start < len(data):
        raise EntryError("more schema text than CRDs")
    return crds


def _read_strings(values: list) -> list[str]:
    if not all(type(v) is str for v in values):
        raise EntryError("a list of strings holding something else")
    return values


def _strings(values: Any) -> list[str]:
    found = list(values)
    if not all(type(v) is str for v in found):
        raise EntryError("strings expected")
    return found


def _string(value: Any) -> str:
    if type(value) is not str:
        raise EntryError("a string expected")
    return value


def _count(value: Any) -> int:
    if type(value) is not int:
        raise EntryError("a count expected")
    return value


def _flag(value: Any) -> bool:
    if type(value) is not bool:
        raise EntryError("a flag expected")
    return value


def _counts(values: Any) -> dict[str, int]:
    if type(values) is not dict or not all(type(k) is str and type(v) is int for k, v in values.items()):
        raise EntryError("counts by kind expected")
    return dict(values)
