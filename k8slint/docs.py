"""The catalogue as text, JSON and Markdown: ``k8slint rules``, ``explain`` and the docs."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from .catalog import RuleMeta, catalog, with_custom
from .custom import CustomRule, declaration, meta


def rules_text(enabled: dict[str, str], custom: Sequence[CustomRule] = ()) -> str:
    metas = list(with_custom(meta(c) for c in custom).values())
    width = max(len(m.id) for m in metas)
    lines = []
    for m in metas:
        state = enabled.get(m.id, "off")
        origin = f" [custom rule, {m.origin}]" if m.custom else ""
        fix = {"safe": "fix", "unsafe": "fix*"}.get(m.autofix, "")
        lines.append(f"{m.id:<{width}}  {state:<7}  {fix:<4}  {m.summary}{origin}")
    return "\n".join(lines) + "\n"


def applies_to(rule_id: str, custom: Sequence[CustomRule] = ()) -> str:
    """What a rule visits, from its declaration in code (kinds live there, not in YAML), or
    for a custom rule, from its target and kinds."""
    from .checks import all_rules

    rule = all_rules().get(rule_id)
    if rule is None:
        rule = next((declaration(c) for c in custom if c.id == rule_id), None)
    return rule.applies_to() if rule is not None else "every file (reported while reading files)"


def rules_json(enabled: dict[str, str], custom: Sequence[CustomRule] = ()) -> str:
    return json.dumps(
        [
            {
                "id": m.id, "severity": m.severity, "enabled": m.id in enabled,
                "effectiveSeverity": enabled.get(m.id), "summary": m.summary,
                "appliesTo": applies_to(m.id, custom), "tags": list(m.tags),
                "securitySeverity": m.security_severity, "custom": m.custom, "definedIn": m.origin,
                "autofix": m.autofix, "autofixAction": m.autofix_action or None,
            }
            for m in with_custom(meta(c) for c in custom).values()
        ],
        indent=2,
    ) + "\n"


def rules_table(link: str = "docs/rules.md") -> str:
    """The Markdown table the README embeds between its rules markers."""
    lines = ["| rule | severity | on by default | autofix | what it finds |", "|---|---|---|---|---|"]
    lines.extend(
        f"| [`{m.id}`]({link}#{m.id}) | {m.severity} | {'yes' if m.enabled else 'no'} | "
        f"{'' if m.autofix == 'none' else m.autofix} | {m.summary} |"
        for m in catalog().values()
    )
    return "\n".join(lines) + "\n"


def explain(rule: RuleMeta, custom: Sequence[CustomRule] = ()) -> str:
    if rule.custom:
        return _explain_custom(rule, custom)
    parts = [
        f"{rule.id} ({rule.severity}, {'on' if rule.enabled else 'off'} by default)",
        "",
        rule.summary,
        "",
    ]
    if rule.security_severity:
        band = security_band(rule.security_severity)
        parts += [f"Security severity: {rule.security_severity} ({band} in GitHub code scanning)", ""]
    parts += [
        "Why it matters:",
        _indent(rule.why),
        "",
        "Fails:",
        _indent(rule.example),
        "",
        "Fix:",
        _indent(rule.fix),
        "",
        f"Autofix: {autofix_words(rule)}",
    ]
    if rule.instead:
        parts += ["", "Instead:", _indent(rule.instead)]
    if rule.references:
        parts += ["", "References:"] + [f"  {ref}" for ref in rule.references]
    return "\n".join(parts) + "\n"


def _explain_custom(rule: RuleMeta, custom: Sequence[CustomRule]) -> str:
    """A custom rule as its config defines it: the words it gives and the schema it applies."""
    parts = [
        f"{rule.id} ({rule.severity}, custom rule from {rule.origin})",
        "",
        rule.summary,
        "",
        f"Applies to: {applies_to(rule.id, custom)}",
        "",
    ]
    if rule.why:
        parts += ["Why it matters:", _indent(rule.why), ""]
    parts += ["Message:", _indent(rule.message), ""]
    if rule.fix:
        parts += ["Fix:", _indent(rule.fix), ""]
    parts += ["Schema (JSON Schema, draft 2020-12 unless it says otherwise):", _indent(_yaml(rule.schema))]
    if rule.references:
        parts += ["", "References:"] + [f"  {ref}" for ref in rule.references]
    return "\n".join(parts) + "\n"


def _yaml(value: object) -> str:
    import yaml

    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=False).rstrip("\n")


def autofix_words(rule: RuleMeta) -> str:
    """What ``k8slint fix`` does for the rule, in one line."""
    if rule.autofix == "safe":
        return f"safe (`k8slint fix`). {rule.autofix_action}"
    if rule.autofix == "unsafe":
        return f"unsafe (`k8slint fix --unsafe-fixes`). {rule.autofix_action}"
    return "none: k8slint fix leaves it to you."


def security_band(score: str) -> str:
    """How GitHub code scanning ranks a ``security-severity`` score. Its documentation says
    "over 9.0" for critical and "7.0 to 8.9" for high; 9.0 itself is read as critical here,
    as CVSS reads it (no rule of the catalogue scores 9.0)."""
    value = float(score)
    if value >= 9.0:
        return "critical"
    if value >= 7.0:
        return "high"
    if value >= 4.0:
        return "medium"
    return "low"


def _indent(text: str) -> str:
    return "\n".join(("  " + line) if line else "" for line in text.splitlines())


def rules_markdown(custom: Sequence[CustomRule] = ()) -> str:
    """docs/rules.md: every rule's full documentation, generated from its metadata; with
    ``custom``, the config's custom rules follow the built-in ones."""
    out = [
        "# k8slint rules",
        "",
        "Generated from `rules/*.yaml` by `k8slint rules --format markdown`; do not edit by hand.",
        "",
        rules_table(link="").rstrip("\n"),
    ]
    for m in catalog().values():
        out += [
            "",
            f"## {m.id}",
            "",
            m.summary,
            "",
            f"- Severity: **{m.severity}**; on by default: {'yes' if m.enabled else 'no'}",
            f"- Applies to: {applies_to(m.id)}",
            f"- Tags: {', '.join(m.tags)}",
        ]
        if m.security_severity:
            out.append(f"- Security severity: **{m.security_severity}** "
                       f"({security_band(m.security_severity)} in GitHub code scanning)")
        out += [
            "",
            "### Why is this bad?",
            "",
            m.why,
            "",
            "### Example",
            "",
            "```yaml",
            m.example,
            "```",
            "",
            "### Fix",
            "",
            m.fix,
            "",
            f"Autofix: {autofix_words(m)}",
        ]
        if m.instead:
            out += ["", "### Use instead", "", "```yaml", m.instead, "```"]
        if m.references:
            out += ["", "### References", ""] + [f"- <{ref}>" for ref in m.references]
    for c in custom:
        m = meta(c)
        out += [
            "",
            f"## {m.id}",
            "",
            m.summary,
            "",
            f"- Custom rule from `{m.origin}`",
            f"- Severity: **{m.severity}**",
            f"- Applies to: {applies_to(m.id, custom)}",
            f"- Message: {m.message}",
        ]
        if m.why:
            out += ["", "### Why is this bad?", "", m.why]
        if m.fix:
            out += ["", "### Fix", "", m.fix]
        out += ["", "### Schema", "", "```yaml", _yaml(m.schema), "```"]
        if m.references:
            out += ["", "### References", ""] + [f"- <{ref}>" for ref in m.references]
    return "\n".join(out) + "\n"


_README_TABLE = re.compile(r"(<!-- rules:start -->\n).*?(<!-- rules:end -->)", re.DOTALL)


def with_rules_table(readme: str) -> str:
    """The README with its generated rule table brought up to date."""
    return _README_TABLE.sub(lambda m: m.group(1) + rules_table() + m.group(2), readme)


_SCHEMA_TABLES = re.compile(r"(<!-- schema-tables:start -->\n).*?(<!-- schema-tables:end -->)",
                            re.DOTALL)


def schema_tables() -> str:
    """docs/schema.md's generated part: the fields other rules own, and the value sets the
    schema rules add to the OpenAPI data (both from k8slint/schemas.py)."""
    from .schemas import OWNED_FIELDS, OWNED_PATHS, VALUE_SETS

    lines = ["### Fields other rules own", "", "| where | field | owned by |", "|---|---|---|"]
    lines += [f"| {definition} | `{field}` | [`{owner}`](rules.md#{owner}) |"
              for definition, fields in OWNED_FIELDS.items() for field, owner in fields.items()]
    by_path: dict[tuple[tuple, str], list[str]] = {}
    for kind, paths in OWNED_PATHS.items():
        for path, owner in paths.items():
            by_path.setdefault((path, owner), []).append(kind)
    lines += [f"| {', '.join(kinds)} | `{'.'.join(path)}` (its value) | [`{owner}`](rules.md#{owner}) |"
              for (path, owner), kinds in by_path.items()]
    lines += ["| every kind | `apiVersion` of an API the target release removed | "
              "[`removed-api-version`](rules.md#removed-api-version) |"]
    lines += ["", "### Value sets", "", "| definition | field | allowed values |", "|---|---|---|"]
    for definition, fields in VALUE_SETS.items():
        for field, values in fields.items():
            shown = ", ".join(f"`{v}`" if v else '`""`' for v in values)
            name = f"`{field.removesuffix('[]')}` (each item)" if field.endswith("[]") else f"`{field}`"
            lines.append(f"| {definition} | {name} | {shown} |")
    return "\n".join(lines) + "\n"


def with_schema_tables(page: str) -> str:
    return _SCHEMA_TABLES.sub(lambda m: m.group(1) + schema_tables() + m.group(2), page)


def regenerate(repo: Path) -> list[Path]:
    """Rewrite README.md's rule table, docs/rules.md and docs/schema.md's tables; returns
    the files that changed."""
    changed = []
    from .catalog import rule_index_source

    for path, render in (
        (repo / "README.md", lambda old: with_rules_table(old)),
        (repo / "docs" / "rules.md", lambda old: rules_markdown()),
        (repo / "docs" / "schema.md", lambda old: with_schema_tables(old)),
        (repo / "k8slint" / "_rule_index.py", lambda old: rule_index_source()),
    ):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        new = render(old)
        if new != old:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


if __name__ == "__main__":  # python -m k8slint.docs [REPO]: regenerate the docs
    import sys

    for changed_path in regenerate(Path(sys.argv[1] if len(sys.argv) > 1 else ".")):
        print(f"updated {changed_path}")
