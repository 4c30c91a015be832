"""Custom rules: JSON Schema checks a config defines (``customRules``), run as real rules.

A custom rule is plain data (:class:`CustomRule`) until a process compiles it: the config
builds the records, each process that lints (the run's own, or each worker of a pool)
compiles their schemas once with jsonschema-rs, and the engine runs the compiled rules
beside the built-in ones through the same rule API. So positions, suppressions, baselines
and every report treat both alike.

Where a finding points, and what it says, follows the product's "points at" rule:

- a ``required`` failure points at the deepest key that exists on the way to the missing
  one (the object that lacks it; a list item's first line), and says what is missing;
- any other failure points at the key of the failing value (a list item: its first line);
  ``additionalProperties`` and ``propertyNames`` at the offending key itself;
- ``anyOf`` / ``oneOf``: the alternative that got furthest into the value is taken as the
  one meant, and its failures are reported; when every alternative fails at the value
  itself, the value is reported as matching none of them;
- one finding per failing place: several failures at one place share a finding.

The message is the rule's own, then the schema's reason in a few words, in parentheses.
jsonschema-rs answers "valid?" in about a microsecond without converting the value, and
lists the failures only for the values that fail. The pure-Python jsonschema, measured on
the real corpus with the benchmark's ten rules, took three times as long overall (7 to 30
µs for each value that passes) and 0.09 s to import in each process (see
docs/custom-rules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .findings import Violation, shortened
from .rule import ALL, APP_ONLY, CONTAINERS, OBJECTS, PODS, Rule, View

if TYPE_CHECKING:  # the catalogue's records, for docs and SARIF only
    import jsonschema_rs

    from .briefs import RuleBrief
    from .catalog import RuleMeta

# The config's words for what a rule's schema is applied to, and for which containers.
TARGETS = {"object": OBJECTS, "podSpec": PODS, "container": CONTAINERS}
CONTAINER_CHOICES = {"all": ALL, "app": APP_ONLY}
_ROOT_NAMES = {OBJECTS: "the object", PODS: "the pod spec", CONTAINERS: "the container"}
_SHOWN_LENGTH = 40  # a value quoted in a reason is cut after this many characters
_SHOWN_OPTIONS = 5  # an enum's options named in a reason


class CustomRule(NamedTuple):
    """One entry of ``customRules``, as plain data: what a worker process is handed."""

    id: str
    severity: str  # error | warning | info
    summary: str
    message: str
    target: str  # object | podSpec | container, as the config says it
    schema: Any  # a JSON Schema: a mapping, or true / false
    kinds: tuple[str, ...] | None = None  # None: every kind
    containers: str = "all"  # all | app, for container targets
    why: str = ""
    fix: str = ""
    references: tuple[str, ...] = ()
    origin: str = ""  # the config file that defines it, as the user would type its path

    @property
    def visits(self) -> str:
        return TARGETS[self.target]


def declaration(rule: CustomRule, check: Callable[..., Iterable[Any]] | None = None) -> Rule:
    """The rule API's declaration of a custom rule (what it visits; ``check``: its logic)."""
    return Rule(
        rule.id, rule.visits, check or _no_check,
        kinds=frozenset(rule.kinds) if rule.kinds is not None else None,
        containers=CONTAINER_CHOICES[rule.containers],
    )


def _no_check(*_: Any) -> Iterable[Any]:
    """Stands for the logic where only the declaration is wanted (docs)."""
    return ()


class SchemaProblem(Exception):
    """A schema jsonschema-rs refuses: where in the schema, and why."""

    def __init__(self, path: tuple, message: str):
        super().__init__(message)
        self.path = path
        self.message = message


def compile_schema(schema: Any) -> jsonschema_rs.Validator:
    """A validator for ``schema`` (draft 2020-12 unless its ``$schema`` names another);
    nothing is ever fetched: a reference must resolve inside the schema."""
    import jsonschema_rs

    odd = _key_not_text(schema)
    if odd is not None:
        path, key = odd
        raise SchemaProblem(path, f"the key {key!r} is not text, and a JSON Schema's keys are: "
                                  f"quote it ('{key}')")
    try:
        # Patterns are matched in linear time (the `regex` crate, no backtracking): a pack
        # or a repository's config cannot stall a run with a pattern such as (a+)+$; one
        # that needs backtracking (a backreference, a lookaround) is refused at its line.
        return jsonschema_rs.validator_for(schema, offline=True,
                                           pattern_options=jsonschema_rs.RegexOptions())
    except jsonschema_rs.ValidationError as exc:
        path = tuple(exc.instance_path)
        first = exc.message.split("\n", 1)[0].strip()
        if not path:  # a reference that does not resolve names no place: find its $ref
            path = _ref_path(schema, first) or ()
        raise SchemaProblem(path, first) from None
    except Exception as exc:  # keys that are not strings, values JSON has no word for
        first = str(exc).split("\n", 1)[0].strip()
        raise SchemaProblem(_ref_path(schema, first) or (), first) from None


def _nodes(schema: Any) -> Iterator[tuple[tuple, Any]]:
    """Every node of ``schema`` with its path, in document order, each once (a recursive
    alias is not followed twice), walked without recursion."""
    stack: list[tuple[tuple, Any]] = [((), schema)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield path, node
        if isinstance(node, dict):
            stack.extend((path + (k,), v) for k, v in reversed(list(node.items())))
        elif isinstance(node, list):
            stack.extend((path + (i,), v) for i, v in reversed(list(enumerate(node))))


def _key_not_text(schema: Any) -> tuple[tuple, Any] | None:
    """The first mapping key of ``schema`` that YAML read as a number, boolean or null."""
    for path, node in _nodes(schema):
        if isinstance(node, dict):
            for key in node:
                if not isinstance(key, str):
                    return path + (key,), key
    return None


def _ref_path(schema: Any, message: str) -> tuple | None:
    """Where in the schema the ``$ref`` (or ``$dynamicRef``) that ``message`` names is."""
    for path, node in _nodes(schema):
        if isinstance(node, dict):
            for key in ("$ref", "$dynamicRef"):
                ref = node.get(key)
                if isinstance(ref, str) and ref and (ref in message or ref.lstrip("#") in message):
                    return path + (key,)
    return None


def compile_rules(rules: Sequence[CustomRule]) -> list[Rule]:
    """The rules, each with its validator compiled (once: call it once per process)."""
    return [declaration(rule, _checker(rule, compile_schema(rule.schema))) for rule in rules]


def _checker(rule: CustomRule, validator: jsonschema_rs.Validator) -> Callable[[View], Iterator[Violation]]:
    visits = rule.visits
    root = _ROOT_NAMES[visits]
    message = rule.message.strip()
    if message.endswith("."):
        message = message[:-1]

    def check(view: View) -> Iterator[Violation]:
        if visits == OBJECTS:
            data, base = view.obj.data, ()
        elif visits == PODS:
            data, base = view.pod.spec, view.pod.path
        else:
            data, base = view.container.data, view.container.path
        for path, reasons in judge(validator, data, root):
            yield Violation(base + path, f"{message} ({'; '.join(reasons)})")

    return check


Places = list[tuple[tuple, list[str]]]  # failing places (paths), each with its reasons


def judge(validator: jsonschema_rs.Validator, data: Any, root: str = "the value") -> Places:
    """The failing places of ``data`` (paths inside it), each with its reasons; ``root``
    names ``data`` itself in a reason."""
    try:
        if validator.is_valid(data):
            return []
        errors = list(validator.iter_errors(data))
    except ValueError:
        # Keys that are not strings (``1: x``), or a recursive alias: judge the JSON the
        # API server would see (keys as text, a value that contains itself cut there).
        seen = _as_json(data, set())
        if validator.is_valid(seen):
            return []
        errors = list(validator.iter_errors(seen))
    places = _Places(root, data)
    for error in errors:
        places.add(error)
    return places.result()


class _Places:
    """Failures gathered by place, so that each place is reported once."""

    def __init__(self, root: str, data: Any):
        self.root = root
        self.data = data
        self.reasons: dict[tuple, list[str]] = {}
        self.missing: dict[tuple, list[str]] = {}

    def path(self, steps: Iterable[Any]) -> tuple:
        """A validator's instance path as the path through the data as loaded: the
        validator writes a key that reads as a number (a label "1") as a list index,
        and knows every key as text."""
        data = self.data
        out = []
        for step in steps:
            if isinstance(data, dict):
                key = step if step in data else next(
                    (k for k in data if _json_key(k) == str(step)), step)
                data = data.get(key)
                out.append(key)
            else:
                inside = isinstance(data, list) and isinstance(step, int) and 0 <= step < len(data)
                data = data[step] if inside else None
                out.append(step)
        return tuple(out)

    def dotted(self, path: tuple) -> str:
        """``path`` as a reader writes it: a mapping's key after a dot (even a key that
        is a number), a list's index in brackets."""
        data = self.data
        out = ""
        for step in path:
            if isinstance(data, list):
                out += f"[{step}]"
                inside = isinstance(step, int) and 0 <= step < len(data)
                data = data[step] if inside else None
            else:
                out += f".{step}" if out else str(step)
                data = data.get(step) if isinstance(data, dict) else None
        return out

    def where(self, path: tuple) -> str:
        return self.dotted(path) or self.root

    def say(self, path: tuple, reason: str) -> None:
        reasons = self.reasons.setdefault(path, [])
        if reason not in reasons:
            reasons.append(reason)

    def add(self, error: Any) -> None:
        kind = error.kind
        name = kind.name
        steps = list(error.instance_path)
        path = self.path(steps)
        where = self.where(path)
        if name == "required":
            self.reasons.setdefault(path, [])
            keys = self.missing.setdefault(path, [])
            key = self.dotted(path + (kind.property,))
            if key not in keys:
                keys.append(key)
        elif name in ("anyOf", "oneOf"):
            self._alternatives(error, path, where)
        elif name in ("additionalProperties", "unevaluatedProperties"):
            for key in kind.unexpected:
                place = self.path([*steps, key])
                self.say(place, f"{self.dotted(place)} is not an allowed key")
        elif name == "propertyNames":
            inner = kind.error
            key = inner.instance
            place = self.path([*steps, key]) if isinstance(key, str) else path
            if inner.kind.name == "pattern":
                reason = f"key {_shown(key)} does not match {inner.kind.pattern}"
            else:
                reason = f"key {_shown(key)}: " + _reason(inner.kind, inner, "it")
            self.say(place, reason)
        else:
            self.say(path, _reason(kind, error, where))

    def _alternatives(self, error: Any, path: tuple, where: str) -> None:
        kind = error.kind
        keyword = kind.name if kind.name == "anyOf" else "oneOf"
        if type(kind).__name__ == "OneOfMultipleValid":
            self.say(path, f"{where} matches more than one alternative of oneOf")
            return
        branches = [list(branch) for branch in kind.context if branch]
        if not branches:
            self.say(path, f"{where} matches none of the alternatives of {keyword}")
            return
        if all(e.kind.name == "required" and self.path(e.instance_path) == path
               for branch in branches for e in branch):
            keys = [" and ".join(self.dotted(path + (e.kind.property,)) for e in branch)
                    for branch in branches]
            self.say(path, "missing " + " or ".join(dict.fromkeys(keys)))
            return
        # The alternative that got furthest into the value is taken as the one meant.
        depth = [max(len(e.instance_path) for e in branch) for branch in branches]
        best = max(range(len(branches)), key=lambda i: (depth[i], -len(branches[i]), -i))
        if depth[best] <= len(path):
            self.say(path, f"{where} matches none of the {len(branches)} alternatives of {keyword}")
            return
        for inner in branches[best]:
            self.add(inner)

    def result(self) -> Places:
        out = []
        for path, reasons in self.reasons.items():
            keys = self.missing.get(path)
            if keys:
                reasons = ["missing " + _listed(keys), *reasons]
            out.append((path, reasons))
        return out


def _reason(kind: Any, error: Any, where: str) -> str:
    """What failed, in a few words, for one failure that is not ``required``."""
    name = kind.name
    if name == "type":
        return f"{where} is {_shown(error.instance)}, not of type {' or '.join(kind.types)}"
    if name == "enum":
        options = [_shown(o) for o in kind.options[:_SHOWN_OPTIONS]]
        more = ", ..." if len(kind.options) > _SHOWN_OPTIONS else ""
        return f"{where} is {_shown(error.instance)}, not one of {', '.join(options)}{more}"
    if name == "const":
        return f"{where} is {_shown(error.instance)}, not {_shown(kind.expected_value)}"
    if name == "pattern":
        return f"{where} {_shown(error.instance)} does not match {kind.pattern}"
    if name == "not":
        return f"{where} {_negated(kind.schema)}"
    if name == "falseSchema":
        return f"{where} is not allowed"
    if name in _BOUNDS:
        return f"{where} " + _BOUNDS[name].format(v=_shown(error.instance), n=_shown(kind.limit))
    if name == "multipleOf":
        return f"{where} is {_shown(error.instance)}, not a multiple of {_shown(kind.multiple_of)}"
    if name == "uniqueItems":
        return f"{where} has repeated items"
    if name == "contains":
        return f"{where} has no item that its contains schema allows"
    if name in ("unevaluatedItems", "additionalItems"):
        return f"{where} has more items than the schema allows"
    if name == "format":
        return f"{where} {_shown(error.instance)} is not a valid {kind.format}"
    if "Backtrack" in type(kind).__name__ or "RegexEngine" in type(kind).__name__:
        return f"{where} could not be matched against its pattern (the regular expression is too costly)"
    first = error.message.split("\n", 1)[0].strip() or name
    return f"{where}: {_cut(first, 2 * _SHOWN_LENGTH)}"


_BOUNDS = {
    "minimum": "is {v}, below the minimum {n}", "maximum": "is {v}, above the maximum {n}",
    "exclusiveMinimum": "is {v}, not above {n}", "exclusiveMaximum": "is {v}, not below {n}",
    "minLength": "is shorter than {n} characters", "maxLength": "is longer than {n} characters",
    "minItems": "has fewer than {n} items", "maxItems": "has more than {n} items",
    "minProperties": "has fewer than {n} keys", "maxProperties": "has more than {n} keys",
}


def _negated(schema: Any) -> str:
    """What a ``not`` forbids, in words where the schema is a common one."""
    if isinstance(schema, dict) and len(schema) == 1:
        (keyword, value), = schema.items()
        if keyword == "required" and isinstance(value, list) and value:
            return f"must not set {_listed([str(v) for v in value])}"
        if keyword == "const":
            return f"must not be {_shown(value)}"
        if keyword == "enum" and isinstance(value, list):
            return f"must not be any of {', '.join(_shown(v) for v in value[:_SHOWN_OPTIONS])}"
    return f"must not match {_shown(schema)}"


def _listed(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def _cut(text: str, limit: int = _SHOWN_LENGTH) -> str:
    return shortened(text, limit)


def _shown(value: Any) -> str:
    """A value as JSON, cut short: a reason names it, it does not reprint it."""
    if isinstance(value, str) and len(value) < _SHOWN_LENGTH and value.isprintable() and '"' not in value \
            and "\\" not in value:
        return f'"{value}"'  # what json.dumps gives, without its cost
    import json

    try:
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return _cut(text)


def _json_key(key: Any) -> str:
    """A mapping key as the API server's YAML-to-JSON conversion writes it."""
    if isinstance(key, str):
        return key
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _as_json(value: Any, open_: set[int]) -> Any:
    """``value`` with text keys, and a collection that contains itself cut where it does."""
    if isinstance(value, dict):
        if id(value) in open_:
            return None
        open_.add(id(value))
        out = {_json_key(k): _as_json(v, open_) for k, v in value.items()}
        open_.discard(id(value))
        return out
    if isinstance(value, list):
        if id(value) in open_:
            return None
        open_.add(id(value))
        items = [_as_json(v, open_) for v in value]
        open_.discard(id(value))
        return items
    return value


# --- the catalogue's view -------------------------------------------------------------------


def meta(rule: CustomRule) -> RuleMeta:
    """The rule's documentation, as ``rules``, ``explain`` and SARIF show a built-in rule's."""
    from .catalog import RuleMeta

    return RuleMeta(
        id=rule.id, summary=rule.summary, severity=rule.severity, enabled=True, tags=("custom",),
        precision="high", why=rule.why, example="", fix=rule.fix, instead="",
        references=rule.references, params=None, origin=rule.origin or "the config",
        schema=rule.schema, message=rule.message,
    )


def brief(rule: CustomRule) -> RuleBrief:
    from .briefs import RuleBrief

    return RuleBrief(rule.id, rule.severity, True, None)


def briefs(rules: Iterable[CustomRule]) -> dict[str, RuleBrief]:
    """The built-in rules' briefs and the custom rules'."""
    from .briefs import rule_index

    return {**rule_index(), **{rule.id: brief(rule) for rule in rules}}
