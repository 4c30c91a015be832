"""``.k8slint.yaml``: per-repository settings, validated with the schema the package ships.

A config may extend policy packs (``extends``: other config files, merged first, the
repository's own file last) and define custom rules (``customRules``, see ``custom.py``).
Every error names the file, line and column, and what was expected there. Validation
uses jsonschema, which is slow to import; a config that validated once (the same bytes in
every file it is made of, the same k8slint, the same rules) is remembered in the user's
cache folder, so a pre-commit run does not pay for it again. Custom rules' schemas are
compiled on every load (microseconds each), by the validator that runs them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from .briefs import RuleBrief, rule_index
from .discover import is_work_tree
from .findings import dotted, shortened
from .loader import DecodeProblem, decode, load_text, locate
from .render import RENDER_OFF, RENDER_ON, RENDER_REQUIRED, ChartSettings, RenderSettings

if TYPE_CHECKING:  # custom.py is imported when a config is read, not to look for one
    from yaml.nodes import Node

    from .custom import CustomRule

CONFIG_NAMES = (".k8slint.yaml", ".k8slint.yml")
SCHEMA_PATH = Path(__file__).with_name("config-schema.json")
TOP_KEYS = ("extends", "rules", "customRules", "exclude", "failOn", "kubernetesVersion", "render",
            "renderTimeout", "helm", "cache")


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
    custom_rules: tuple[CustomRule, ...] = ()  # customRules of every file, in merge order
    packs: tuple[Path, ...] = ()  # the files it extends, directly or not
    render: RenderSettings = RenderSettings()  # render, renderTimeout and helm
    cache: bool = True  # false: no result cache (as --no-cache)

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file the config is made of: none of them is linted as a manifest."""
        return ((self.path,) if self.path else ()) + self.packs

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


class _File(NamedTuple):
    """One file of a config: the repository's own, or a policy pack it extends."""

    path: Path
    shown: str  # as the user would type it, in every message about the file
    raw: bytes
    data: Any  # normalised; None for an empty file
    root: Node | None

    def at(self, path: tuple) -> str:
        """``file:line:column`` of ``path`` in this file."""
        if self.root is None:
            return f"{self.shown}:1:1"
        pos = locate(self.root, path)
        return f"{self.shown}:{pos.line}:{pos.column}"


def load_config(path: Path) -> Config:
    chain = _chain(path)
    if not _known_valid(chain, path):
        problems = _validate_chain(chain)
        if problems:
            raise ConfigError(problems)
        _remember_valid(chain, path)
    else:
        # Compiling a rule's schema costs microseconds, and it is the same compiler each
        # process of the run uses: so a schema the compiler refuses is always a config error.
        problems = _schema_problems(chain)
        if problems:
            raise ConfigError(problems)
    return _build(path, chain)


def _read(path: Path, raw: bytes) -> _File:
    """One config file's text, parsed; a file that does not parse is a config error."""
    shown = _shown_path(path)
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
        return _File(path, shown, raw, None, None)
    document = documents[0]
    if document.duplicates:
        problems = []
        for dup in document.duplicates:
            mark, first = dup.node.start_mark, dup.first.start_mark
            problems.append(f"{shown}:{mark.line + 1}:{mark.column + 1}: key '{dup.key}' repeats "
                            f"(first at {first.line + 1}:{first.column + 1}); say it once")
        raise ConfigError(problems)
    return _File(path, shown, raw, _normalise(document.data), document.root)


MAX_CONFIG_SIZE = 1024 * 1024  # bytes: a config or pack larger than this is refused
PACK_SUFFIXES = (".yaml", ".yml")  # what `extends` may name: never a key or token file


def read_config_bytes(path: Path, device_ok: bool = False) -> bytes:
    """A config file's bytes: a regular file (or, where ``device_ok``, a character device
    such as /dev/null) of at most MAX_CONFIG_SIZE bytes. A FIFO, a socket or a folder is
    refused before it is opened (it could block the run), and a larger file before it is
    read whole; a device is read no further than the limit."""
    import stat

    info = path.stat()
    if not (stat.S_ISREG(info.st_mode) or (device_ok and stat.S_ISCHR(info.st_mode))):
        raise OSError(0, "not a regular file (a folder, FIFO, socket or device)")
    if info.st_size > MAX_CONFIG_SIZE:
        raise OSError(0, f"larger than the {MAX_CONFIG_SIZE // 1024} KiB a config may be")
    with path.open("rb") as stream:
        raw = stream.read(MAX_CONFIG_SIZE + 1)
    if len(raw) > MAX_CONFIG_SIZE:
        raise OSError(0, f"larger than the {MAX_CONFIG_SIZE // 1024} KiB a config may be")
    return raw


def _chain(path: Path) -> list[_File]:
    """The config and the packs it extends, in merge order: each file after the files it
    extends (depth first, in the order listed), the repository's own file last. A file
    extended twice (two packs sharing a base) is merged once, where it is first reached."""
    try:
        raw = read_config_bytes(path, device_ok=True)  # --config /dev/null: no settings
    except OSError as exc:
        raise ConfigError([f"{_shown_path(path)}: cannot read the config: {exc.strerror or exc}"]) from None
    files: list[_File] = []
    merged: set[str] = set()

    def visit(file: _File, trail: tuple[tuple[str, str], ...]) -> None:
        real = os.path.realpath(file.path)
        trail += ((real, file.shown),)
        extends = file.data.get("extends") if isinstance(file.data, dict) else None
        for i, entry in enumerate(extends if isinstance(extends, list) else ()):
            if not isinstance(entry, str) or not entry:
                continue  # the schema says what is wrong with it
            where = f"{file.at(('extends', i))}: extends[{i}]"
            target = file.path.parent / entry
            target_real = os.path.realpath(target)
            if any(target_real == seen for seen, _ in trail):
                loop = [shown for _, shown in trail] + [_shown_path(target)]
                raise ConfigError([f"{where}: {entry} extends itself: {' -> '.join(loop)}; "
                                   f"remove one of these extends"])
            if target_real in merged:
                continue
            if not entry.lower().endswith(PACK_SUFFIXES):
                raise ConfigError([f"{where}: {_brief(entry)} is not a config file: packs are "
                                   f"YAML files ({', '.join(PACK_SUFFIXES)})"])
            try:
                target_raw = read_config_bytes(target)
            except OSError as exc:
                raise ConfigError([f"{where}: cannot read {_brief(entry)}: {exc.strerror or exc} "
                                   f"(extends paths are relative to {file.shown})"]) from None
            visit(_read(target, target_raw), trail)
        files.append(file)
        merged.add(real)

    visit(_read(path, raw), ())
    return files


def _shown_path(path: Path) -> str:
    """Relative to the working folder when below it, or a step or two above it (a policy
    pack beside the repository), as the user would type it."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        pass
    normal = os.path.normpath(os.path.abspath(path))
    try:
        relative = Path(os.path.relpath(normal)).as_posix()
    except ValueError:  # another drive
        return normal
    return relative if relative.startswith("../") and relative.count("../") <= 2 else normal


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


def _build(path: Path, chain: list[_File]) -> Config:
    """The merged config: ``rules`` per rule id and the other keys by the later file,
    ``customRules`` and ``exclude`` concatenated."""
    from .custom import briefs

    rules: dict[str, Any] = {}
    custom: list[CustomRule] = []
    exclude: list[str] = []
    last: dict[str, Any] = {}
    render = RenderSettings()
    for file in chain:
        data = file.data if isinstance(file.data, dict) else {}
        rules.update(data.get("rules") or {})
        custom.extend(_custom_rule(entry, file.shown) for entry in data.get("customRules") or ())
        exclude.extend(data.get("exclude") or ())
        last.update((key, data[key]) for key in ("failOn", "kubernetesVersion", "cache")
                    if key in data)
        render = _render_settings(render, data, file.path.parent)
    metas = briefs(custom)
    severities, params = {}, {}
    for rule, value in rules.items():
        severity = value.get("severity", "on") if isinstance(value, dict) else value
        severities[rule] = metas[rule].severity if severity == "on" else severity
        if isinstance(value, dict) and "params" in value:
            params[rule] = value["params"]
    return Config(path, severities, params, tuple(exclude), last.get("failOn"),
                  last.get("kubernetesVersion"), tuple(custom),
                  tuple(file.path for file in chain if file.path != path), render,
                  last.get("cache", True))


def _render_settings(settings: RenderSettings, data: dict, folder: Path) -> RenderSettings:
    """``render``, ``renderTimeout`` and ``helm`` of one file over those before it; paths
    are relative to the file's folder."""
    if "render" in data:
        value = data["render"]
        mode = RENDER_REQUIRED if value == "required" else RENDER_ON if value else RENDER_OFF
        settings = settings._replace(mode=mode)
    if "renderTimeout" in data:
        settings = settings._replace(timeout=float(data["renderTimeout"]))
    helm = data.get("helm")
    if isinstance(helm, dict):
        def chart(entry: dict, default: ChartSettings) -> ChartSettings:
            return ChartSettings(
                tuple(str(folder / v) for v in entry.get("values") or ()),
                entry.get("releaseName", default.release), entry.get("namespace", default.namespace))

        run = chart(helm, ChartSettings(settings.helm_values, settings.release, settings.namespace))
        charts = tuple((os.path.realpath(folder / name), chart(entry, ChartSettings(
            (), run.release, run.namespace))) for name, entry in (helm.get("charts") or {}).items())
        settings = settings._replace(helm_values=run.values if "values" in helm else settings.helm_values,
                                     release=run.release, namespace=run.namespace,
                                     charts=charts if "charts" in helm else settings.charts)
    return settings


def _custom_rule(entry: dict, origin: str) -> CustomRule:
    from .custom import CustomRule

    kinds = entry.get("kinds")
    return CustomRule(
        id=entry["id"], severity=entry["severity"], summary=entry["summary"].strip(),
        message=entry["message"].strip(), target=entry["target"], schema=entry["schema"],
        kinds=tuple(kinds) if kinds is not None else None,
        containers=entry.get("containers", "all"), why=(entry.get("why") or "").strip(),
        fix=(entry.get("fix") or "").strip(), references=tuple(entry.get("references") or ()),
        origin=origin,
    )


# --- validation -----------------------------------------------------------------------------


def _validate_chain(chain: list[_File]) -> list[str]:
    """Every problem of every file, each as ``file:line:column: message``, file by file in
    merge order: each file against the schema, then what only the merged config shows (a
    custom rule defined twice)."""
    import json

    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    builtin = rule_index()
    custom = {
        entry["id"]
        for file in chain if isinstance(file.data, dict) and isinstance(file.data.get("customRules"), list)
        for entry in file.data["customRules"] if isinstance(entry, dict) and isinstance(entry.get("id"), str)
    }
    problems: list[str] = []
    defined: dict[str, str] = {}  # custom rule id -> where it is first defined
    for file in chain:
        found = _validate(file.data, file.root, validator, schema, builtin, custom)
        found += _file_schema_problems(file)
        found += _outside_paths(file)
        for i, entry in enumerate(_custom_entries(file.data)):
            rule_id = entry.get("id")
            if not isinstance(rule_id, str) or rule_id in builtin:
                continue
            path = ("customRules", i, "id")
            if rule_id in defined:
                pos = locate(file.root, path) if file.root is not None else None
                found.append((pos.line if pos else 1, pos.column if pos else 1,
                              f"customRules[{i}].id: custom rule '{rule_id}' is defined twice "
                              f"(first at {defined[rule_id]}); give one of them another id"))
            else:
                defined[rule_id] = file.at(path)
        problems.extend(f"{file.shown}:{line}:{column}: {message}"
                        for line, column, message in sorted(set(found)))
    return problems


def _outside_paths(file: _File) -> list[tuple[int, int, str]]:
    """Values files and chart folders that lie outside the config's folder: a config is
    the repository's, and must not make k8slint read files elsewhere into a render."""
    helm = file.data.get("helm") if isinstance(file.data, dict) else None
    if not isinstance(helm, dict) or file.root is None:
        return []
    named: list[tuple[tuple, Any]] = [(("helm", "values", i), v)
                                      for i, v in enumerate(helm.get("values") or ())]
    charts = helm.get("charts")
    for name, entry in (charts.items() if isinstance(charts, dict) else ()):
        named.append((("helm", "charts", name), name))
        values = entry.get("values") if isinstance(entry, dict) else None
        named += [(("helm", "charts", name, "values", i), v)
                  for i, v in enumerate(values if isinstance(values, list) else ())]
    problems = []
    for path, value in named:
        if not isinstance(value, str):
            continue
        normal = os.path.normpath(value)
        if os.path.isabs(value) or normal == ".." or normal.startswith(".." + os.sep) or "\0" in value:
            pos = locate(file.root, path)
            problems.append((pos.line, pos.column, f"{dotted(path)}: {shortened(value, 80)!r} lies "
                             f"outside the config's folder; name a path inside it"))
    return problems


def _custom_entries(data: Any) -> list[dict]:
    """The file's customRules entries that are mappings, at their indexes (others: {})."""
    entries = data.get("customRules") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return []
    return [entry if isinstance(entry, dict) else {} for entry in entries]


def _schema_problems(chain: list[_File]) -> list[str]:
    """Custom rule schemas the validator refuses, file by file."""
    return [f"{file.shown}:{line}:{column}: {message}"
            for file in chain for line, column, message in _file_schema_problems(file)]


def _file_schema_problems(file: _File) -> list[tuple[int, int, str]]:
    """Custom rule schemas the validator refuses, at the schema's line and column: the
    JSON Schema meta-schema's verdict, or a reference that does not resolve."""
    from .custom import SchemaProblem, compile_schema

    problems = []
    for i, entry in enumerate(_custom_entries(file.data)):
        schema = entry.get("schema")
        if not isinstance(schema, (dict, bool)) or file.root is None:
            continue  # the config's own schema says what is wrong with it
        try:
            compile_schema(schema)
        except SchemaProblem as exc:
            path = ("customRules", i, "schema") + exc.path
            pos = locate(file.root, path)
            problems.append((pos.line, pos.column,
                             f"{dotted(path)}: not a valid JSON Schema: {exc.message}"))
    return problems


def _validate(data: Any, root: Node | None, validator: Any, schema: dict,
              metas: dict[str, RuleBrief], custom: set[str]) -> list[tuple[int, int, str]]:
    """(line, column, message) for every problem of one file."""
    import difflib

    from .kinds import POD_KINDS

    problems: list[tuple[int, int, str]] = []
    if data is None or root is None:
        return problems

    def at(path: tuple, message: str) -> None:
        pos = locate(root, path)
        problems.append((pos.line, pos.column, message))

    if not isinstance(data, dict):
        at((), f"expected a mapping with {', '.join(TOP_KEYS)}, got {_shown(data)}")
        return problems
    known = set(metas) | custom
    rules = data.get("rules")
    if isinstance(rules, dict):
        for rule in rules:
            if rule not in known:
                close = difflib.get_close_matches(str(rule), known, n=1)
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
    for error in validator.iter_errors(data):
        path = tuple(error.absolute_path)
        if error.validator == "additionalProperties":
            allowed = sorted(error.schema.get("properties", {}))
            for extra in sorted(set(error.instance) - set(allowed), key=str):
                if path == ("rules",):
                    continue  # rule ids are checked above
                at(path + (extra,), f"unknown key '{extra}': expected {', '.join(allowed)}")
            continue
        if error.validator == "required":
            for key in error.validator_value:
                if isinstance(error.instance, dict) and key not in error.instance:
                    expected = _expected(schema, path + (key,))
                    at(path, f"{_dotted(path)}: {key} is missing" + (f": {expected}" if expected else ""))
            continue
        expected = _expected(schema, path) or error.message
        at(path, f"{_dotted(path)}: expected {expected}, got {_shown(error.instance)}")
    for i, entry in enumerate(_custom_entries(data)):
        where = ("customRules", i)
        rule_id = entry.get("id")
        if isinstance(rule_id, str) and (rule_id in metas or rule_id == "all"):
            from . import __version__

            what = (f"the id of a built-in rule of k8slint {__version__}" if rule_id in metas
                    else "what suppressions use for every rule")
            at(where + ("id",), f"customRules[{i}].id: '{rule_id}' is {what}; give the custom rule "
                                f"another id")
        target = entry.get("target")
        if "containers" in entry and target != "container":
            at(where + ("containers",), f"customRules[{i}].containers: only a rule with target: "
                                        f"container chooses containers")
        kinds = entry.get("kinds")
        if target in ("podSpec", "container") and isinstance(kinds, list):
            for j, kind in enumerate(kinds):
                if isinstance(kind, str) and kind not in POD_KINDS:
                    at(where + ("kinds", j),
                       f"customRules[{i}].kinds[{j}]: {kind} has no pod spec k8slint knows, so a "
                       f"{target} rule never visits it; pod specs are in {', '.join(sorted(POD_KINDS))}")
    for rule, value in (rules or {}).items() if isinstance(rules, dict) else ():
        meta = metas.get(rule)
        if not isinstance(value, dict) or not isinstance(value.get("params"), dict):
            continue
        if meta is None:
            if rule in custom:
                at(("rules", rule, "params"), f"rule '{rule}' takes no params")
            continue
        if meta.params is None:
            at(("rules", rule, "params"), f"rule '{rule}' takes no params")
            continue
        import jsonschema

        for error in jsonschema.Draft7Validator(meta.params).iter_errors(value["params"]):
            path = ("rules", rule, "params") + tuple(error.absolute_path)
            if error.validator == "additionalProperties":
                allowed = sorted(meta.params.get("properties", {}))
                for extra in sorted(set(error.instance) - set(allowed), key=str):
                    at(path + (extra,),
                       f"unknown param '{extra}' of rule '{rule}': expected {', '.join(allowed)}")
                continue
            at(path, f"{_dotted(path)}: {error.message}")
    return problems


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
    return dotted(path) or "the config"


def _brief(text: str) -> str:
    """Text from a config, cut short: an error must not print a whole file's contents."""
    return shortened(text, 80)


def _shown(value: Any) -> str:
    """A config value in an error message, cut short (a value can be a whole file's text)."""
    import json

    try:
        return _brief(json.dumps(value, ensure_ascii=False))
    except (TypeError, ValueError, RecursionError):
        return _brief(repr(value))


# --- remembering valid configs ----------------------------------------------------------------


def _fingerprint(chain: list[_File]) -> str:
    import hashlib
    import json

    from . import __version__

    digest = hashlib.sha256()
    for file in chain:  # every file of the config, where it is and what it says
        path = os.fsencode(os.path.realpath(file.path))
        digest.update(len(path).to_bytes(8, "big") + path)
        digest.update(len(file.raw).to_bytes(8, "big") + file.raw)
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


def _known_valid(chain: list[_File], config: Path) -> bool:
    """Known when an entry named by the fingerprint (the bytes and places of the config's
    files, k8slint's version, its schema, its rule ids and params) holds that fingerprint;
    in doubt, validate."""
    folder = _cache_dir(config)
    if folder is None:
        return False
    fingerprint = _fingerprint(chain)
    try:
        return (folder / fingerprint).read_text(encoding="ascii") == fingerprint
    except (OSError, ValueError):
        return False


def _remember_valid(chain: list[_File], config: Path) -> None:
    folder = _cache_dir(config)
    if folder is None:
        return
    fingerprint = _fingerprint(chain)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        from .output import write_text

        write_text(str(folder / fingerprint), fingerprint)
    except OSError:
        pass  # no cache: the next run validates again
