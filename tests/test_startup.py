"""A plain text run of one file imports only what it needs: start-up is the pre-commit cost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .helpers import FIXTURES

# json is not among them: the target release's schema data (one small gzipped JSON file) is
# what every run validates objects against.
HEAVY = ("jsonschema", "jsonschema_rs", "sarif_om", "attr", "referencing", "rpds", "hypothesis", "ruamel",
         "urllib.request", "multiprocessing", "concurrent.futures", "hashlib", "difflib")

PROBE = """
import sys
from k8slint.cli import main
code = main(["check", sys.argv[1]])
modules = sorted(sys.modules)  # before the probe's own json import
import json
print(json.dumps({"code": code, "modules": modules}), file=sys.stderr)
"""


def test_text_run_of_one_file_stays_light():
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(FIXTURES / "latest-tag-drift" / "pass.yaml")],
        capture_output=True, text=True,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    assert report["code"] == 1  # the pass fixture is clean for its own rule only
    loaded = [m for m in report["modules"] if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}]
    assert [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)] == []
    assert "k8slint.report.text" in report["modules"]
    assert "k8slint.report.sarif" not in report["modules"]
    assert "k8slint.report.compact" not in report["modules"]  # (with shutil, bz2, lzma)


def test_every_module_imports_on_its_own():
    """No import cycle hides behind the order the CLI happens to import things in."""
    import pkgutil

    import k8slint

    names = ["k8slint"] + [m.name for m in pkgutil.walk_packages(k8slint.__path__, "k8slint.")
                           if not m.name.endswith("__main__")]
    code = "; ".join(f"subprocess.run([sys.executable, '-c', 'import {n}'], check=True)" for n in names)
    proc = subprocess.run([sys.executable, "-c", f"import subprocess, sys; {code}"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert len(names) > 25


# A one-file run loads the rule modules of the kinds its objects are, the schema modules
# when a schema rule meets an object, and never what only other runs need.
MODULES_PROBE = """
import sys
from k8slint.cli import main
code = main(sys.argv[1:])
modules = sorted(m for m in sys.modules if m.startswith("k8slint"))
import json
print(json.dumps({"code": code, "modules": modules}), file=sys.stderr)
"""

# The modules of rules that visit pod specs and containers (and etcd's and the ports' object
# rules), none of which visits a ConfigMap.
POD_RULE_MODULES = {f"k8slint.checks.{m}" for m in ("pull_policy", "termination", "etcd", "images",
                                                    "workloads", "security", "hygiene", "ports", "host")}
# What only some runs need: rendering engines, the result cache, custom rules, the reports
# not asked for, fixing, shards.
NEVER_FOR_ONE_FILE = {"k8slint.helm", "k8slint.kbuild", "k8slint.cache", "k8slint.partial",
                      "k8slint.custom", "k8slint.fixer", "k8slint.fixrun", "k8slint.shard",
                      "k8slint.docs", "k8slint.report.json", "k8slint.report.sarif",
                      "k8slint.report.compact", "k8slint.report.github"}
SCHEMA_MODULES = {"k8slint.schemas", "k8slint.validate", "k8slint.checks.schema"}
SCHEMA_RULE_IDS = ("unknown-field", "invalid-field-type", "missing-required-field",
                   "invalid-field-value", "unknown-kind")

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n"
DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:latest
"""


def _modules_of_run(folder: Path, name: str, text: str, *options: str) -> tuple[int, set[str]]:
    (folder / name).write_text(text, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", MODULES_PROBE, "check", "--no-cache", "--no-render", "--format", "text",
         *options, name],
        capture_output=True, text=True, cwd=folder,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def test_one_file_run_imports_the_rules_its_kinds_meet(tmp_path: Path) -> None:
    code, modules = _modules_of_run(tmp_path, "settings.yaml", CONFIG_MAP)
    assert code == 0  # a plain ConfigMap is clean
    assert modules & POD_RULE_MODULES == set()
    assert modules & NEVER_FOR_ONE_FILE == set()
    assert modules >= SCHEMA_MODULES  # the schema rules meet every object
    assert {"k8slint.checks.apis", "k8slint.checks.cross", "k8slint.report.text"} <= modules

    code, modules = _modules_of_run(tmp_path, "web.yaml", DEPLOYMENT)
    assert code == 1  # latest tag, no probes, no budget...
    assert modules >= POD_RULE_MODULES
    assert modules & NEVER_FOR_ONE_FILE == set()


def test_one_file_run_without_schema_rules_loads_no_schema(tmp_path: Path) -> None:
    disabled = [arg for rule in SCHEMA_RULE_IDS for arg in ("--disable", rule)]
    code, modules = _modules_of_run(tmp_path, "web.yaml", DEPLOYMENT, *disabled)
    assert code == 1
    assert modules & SCHEMA_MODULES == set()
    assert modules >= POD_RULE_MODULES


def test_a_file_without_objects_loads_no_rule_module(tmp_path: Path) -> None:
    code, modules = _modules_of_run(tmp_path, "empty.yaml", "# nothing here yet\n")
    assert code == 0
    assert [m for m in modules if m.startswith("k8slint.checks.")] == []
    assert modules & SCHEMA_MODULES == set()


def test_the_light_rule_index_matches_the_declarations() -> None:
    from k8slint import checks
    from k8slint.checks.schema import SCHEMA_RULES
    from k8slint.kinds import POD_KINDS

    assert checks.rules_of("schema") == SCHEMA_RULES
    rules = checks.all_rules()
    assert checks.object_rule_ids() == [rule_id for rule_id, r in rules.items() if r.visits != "index"]
    assert checks.index_rule_ids() == [rule_id for rule_id, r in rules.items() if r.visits == "index"]
    for rule_id, rule in checks.all_rules().items():
        assert checks.rule(rule_id) is rule
        assert checks.kinds_of(rule_id) == checks.reach(rule)
        if rule.visits in ("pod", "container"):  # only kinds with a pod spec
            assert checks.kinds_of(rule_id) == POD_KINDS & (rule.kinds or POD_KINDS)
        else:
            assert checks.kinds_of(rule_id) == rule.kinds
