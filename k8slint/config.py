"""``.k8slint.yaml``: per-repository settings, validated with the schema the package ships.

Every error names the file, line and column, and what was expected there. Validation
uses jsonschema, which is slow to import; a config that validated once (same text, same
k8slint, same rules) is remembered in the user's cache folder, so a pre-commit run does
not pay for it again.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from yaml.nodes import Node

from .catalog import catalog, rule_index
from .discover import is_work_tree
from .loader import DecodeProblem, decode, load_text, locate

CONFIG_NAMES = (".k8slint.yaml", ".k8slint.yml")
SCHEMA_PATH = Path(__file__).with_name("config-schema.json")
TOP_KEYS = ("rules", "exclude", "failOn", "kubernetesVersion")


class ConfigError(Exception):
    """A config that cannot be used: one message per problem, each with its position."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


class Config(NamedTuple):
    path: Path | None
    severities: dict[str, str]  # rule id -> off | on | info | warning | error
    params: dict[str, dict]
    exclude: tuple[str, ...] = ()
    fail_on: str | None = None
    kubernetes_version: str | None = None  # the release the API rules check against

    @property
    def base(self) -> Path:
        """The folder exclude globs are relative to."""
        return self.path.parent if self.path else Path.cwd()


EMPTY = Config(None, {}, {})


def find_config(start: Path, scanned: Iterable[str] = ()) -> Path | None:
    """The nearest config from ``start`` up to the repository's root.

    Outside a repository the search climbs no higher than the scanned folder that holds
    ``start``, else it looks in ``start`` alone: a ``.k8slint.yaml`` in some parent folder
    (a shared temporary folder, say) must not turn rules off.
    """
    start = start.resolve()
    top = _repository_root(start)
    if top is None:
        top = start
        for path in scanned:
            if path == "-":
                continue
            folder = Path(path).resolve()
            if not folder.is_dir():
                folder = folder.parent
            if start.is_relative_to(folder) and len(folder.parts) < len(top.parts):
                top = folder
    folder = start
    while True:
        for name in CONFIG_NAMES:
            candidate = folder / name
            if candidate.is_file():
                return candidate
        if folder == top or folder.parent == folder:
            return None
        folder = folder.parent


def _repository_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if is_work_tree(folder):
            return folder
    return None


def load_config(path: Path) -> Config:
    shown = _shown_path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError([f"{shown}: cannot read the config: {exc.strerror or exc}"]) from None
    try:
        text = decode(raw)
    except DecodeProblem as exc:
        p = exc.problem
        raise ConfigError([f"{shown}:{p.line}:{p.column}: {p.message}"]) from None
    loaded = load_text(text)
    if loaded.problem is not None:
        p = loaded.problem
        raise ConfigError([f"{shown}:{p.line}:{p.column}: {p.message}"])
    documents = [d for d in loaded.documents if d.data not in (None, "")]
    if len(documents) > 1:
        raise ConfigError([f"{shown}: expected one YAML document, found {len(documents)}"])
    if not documents:
        return Config(path, {}, {})
    document = documents[0]
    if document.duplicates:
        problems = []
        for dup in document.duplicates:
            mark, first = dup.node.start_mark, dup.first.start_mark
            problems.append(f"{shown}:{mark.line + 1}:{mark.column + 1}: key '{dup.key}' repeats "
                            f"(first at {first.line + 1}:{first.column + 1}); say it once")
        raise ConfigError(problems)
    data = _normalise(document.data)
    if not _known_valid(raw, path):
        problems = [f"{shown}:{line}:{column}: {message}"
                    for line, column, message in _validate(data, document.root)]
        if problems:
            raise ConfigError(problems)
        _remember_valid(raw, path)
    return _build(path, data)


def _shown_path(path: Path) -> str:
    """Relative to the working folder when below it, as the user would type it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return str(path)


def _normalise(data: Any) -> Any:
    """YAML 1.1 reads ``off`` and ``on`` as booleans; in ``rules`` they mean the words."""
    if isinstance(data, dict) and isinstance(data.get("rules"), dict):
        rules = {}
        for rule, value in data["rules"].items():
            if isinstance(value, bool):
                value = "on" if value else "off"
            elif isinstance(value, dict) and isinstance(value.get("severity"), bool):
                value = {**value, "severity": "on" if value["severity"] else "off"}
            rules[rule] = value
        data = {**data, "rules": rules}
    return data


def _build(path: Path, data: dict) -> Config:
    metas = rule_index()
    severities, params = {}, {}
    for rule, value in (data.get("rules") or {}).items():
        severity = value.get("severity", "on") if isinstance(value, dict) else value
        severities[rule] = metas[rule].severity if severity == "on" else severity
        if isinstance(value, dict) and "params" in value:
            params[rule] = value["params"]
    return Config(path, severities, params, tuple(data.get("exclude") or ()), data.get("failOn"),
                  data.get("kubernetesVersion"))


# --- validation -----------------------------------------------------------------------------


def _validate(data: Any, root: Node) -> list[tuple[int, int, str]]:
    """(line, column, message) for every problem, in file order."""
    import difflib
    import json

    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    problems: list[tuple[int, int, str]] = []

    def at(path: tuple, message: str) -> None:
        pos = locate(root, path)
        problems.append((pos.line, pos.column, message))

    if not isinstance(data, dict):
        at((), f"expected a mapping with {', '.join(TOP_KEYS)}, got {_shown(data)}")
        return problems
    metas = catalog()
    rules = data.get("rules")
    if isinstance(rules, dict):
        for rule in rules:
            if rule not in metas:
                close = difflib.get_close_matches(str(rule), metas, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else "; see `k8slint rules`"
                at(("rules", rule), f"unknown rule '{rule}'{hint}")
    from .versions import supported

    versions: list[tuple[tuple, Any]] = [(("kubernetesVersion",), data.get("kubernetesVersion"))] + [
        (("rules", rule, "params", "kubernetesVersion"), value["params"].get("kubernetesVersion"))
        for rule, value in (rules.items() if isinstance(rules, dict) else ())
        if isinstance(value, dict) and isinstance(value.get("params"), dict)
    ]
    for where, version in versions:
        if isinstance(version, str):
            try:
                supported(version)
            except ValueError as exc:
                at(where, f"{_dotted(where)}: {exc}")
    validator = jsonschema.Draft7Validator(schema)
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - set(allowed), key=str):
                if path == ("rules",):
                    continue  # rule ids are checked above
                at(path + (extra,), f"unknown key '{extra}': expected {', '.join(allowed)}")
            continue
        expected = _expected(schema, path) or error.message
        at(path, f"{_dotted(path)}: expected {expected}, got {_shown(error.instance)}")
    for rule, value in (rules or {}).items() if isinstance(rules, dict) else ():
        meta = metas.get(rule)
        if meta is None or not isinstance(value, dict) or not isinstance(value.get("params"), dict):
            continue
        if meta.params is None:
            at(("rules", rule, "params"), f"rule '{rule}' takes no params")
            continue
        for error in jsonschema.Draft7Validator(meta.params).iter_errors(value["params"]):
            path = ("rules", rule, "params") + tuple(error.absolute_path)
            if error.validator == "additionalProperties":
                allowed = sorted(meta.params.get("properties", {}))
                for extra in sorted(set(error.instance) - set(allowed), key=str):
                    at(path + (extra,),
                       f"unknown param '{extra}' of rule '{rule}': expected {', '.join(allowed)}")
                continue
            at(path, f"{_dotted(path)}: {error.message}")
    return sorted(set(problems))


def _expected(schema: dict, path: tuple) -> str | None:
    """The ``x-expected`` text of the schema node that describes ``path``."""
    node: dict | None = schema
    for step in path:
        if node is None:
            return None
        if isinstance(step, int):
            node = node.get("items")
        elif step in node.get("properties", {}):
            node = node["properties"][step]
        else:
            extra = node.get("additionalProperties")
            node = extra if isinstance(extra, dict) else None
    return node.get("x-expected") if node else None


def _dotted(path: tuple) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "the config"


def _shown(value: Any) -> str:
    import json

    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


# --- remembering valid configs ----------------------------------------------------------------


def _fingerprint(raw: bytes) -> str:
    import hashlib
    import json

    from . import __version__

    digest = hashlib.sha256(raw)
    digest.update(SCHEMA_PATH.read_bytes())
    digest.update(__version__.encode())
    for rule_id, meta in rule_index().items():
        digest.update(f"{rule_id}:{json.dumps(meta.params, sort_keys=True)}".encode())
    return digest.hexdigest()


def _cache_dir(config: Path) -> Path | None:
    """The user's cache folder, or None when it could be planted by what is linted: a
    relative path (``HOME`` unset), or one inside the working folder or the config's."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    folder = Path(os.path.realpath(base)) / "k8slint" / "valid-configs"
    for tree in (Path.cwd().resolve(), config.resolve().parent):
        if folder.is_relative_to(tree):
            return None
    return folder


def _known_valid(raw: bytes, config: Path) -> bool:
    """Known when an entry named by the fingerprint (the config's bytes, k8slint's
    version, its schema and rule params) holds that fingerprint; in doubt, validate."""
    folder = _cache_dir(config)
    if folder is None:
        return False
    fingerprint = _fingerprint(raw)
    try:
        return (folder / fingerprint).read_text(encoding="ascii") == fingerprint
    except (OSError, ValueError):
        return False


def _remember_valid(raw: bytes, config: Path) -> None:
    folder = _cache_dir(config)
    if folder is None:
        return
    fingerprint = _fingerprint(raw)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        from .output import write_text

        write_text(str(folder / fingerprint), fingerprint)
    except OSError:
        pass  # no cache: the next run validates again
