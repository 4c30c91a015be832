"""The schema rules: built-in kinds at the target release, CRDs of the run, objects with
no schema, and the shipped data they rest on."""

from __future__ import annotations

import csv
import itertools
import json
from pathlib import Path

import pytest

from k8slint.checks.schema import SCHEMA_RULES, resolve
from k8slint.rule import ObjectView, Settings
from k8slint.schemas import (
    DATA,
    OWNED_FIELDS,
    VALUE_SETS,
    builtin,
    crd_versions,
    shipped_versions,
)
from k8slint.validate import json_key, validate
from k8slint.versions import NEWEST, OLDEST, parse_version, shown

from .helpers import corpus_dir, make_git_folder, run

ONLY_SCHEMA = [arg for rule in SCHEMA_RULES for arg in ("--enable", rule)]


def schema_lines(capsys, *args: str) -> list[str]:
    """The schema rules' lines of a text run (other rules disabled by a config)."""
    _code, out, _err = run(capsys, "check", "--config", "only-schema.yaml", *args)
    return [line for line in out.splitlines()
            if any(f" {rule} " in line for rule in SCHEMA_RULES) or "checked" in line]


@pytest.fixture
def here(tmp_path, monkeypatch):
    make_git_folder(tmp_path)
    from k8slint.catalog import catalog

    rules = "\n".join(f"  {rule}: off" for rule in catalog() if rule not in SCHEMA_RULES)
    (tmp_path / "only-schema.yaml").write_text(f"rules:\n{rules}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path.with_name(tmp_path.name + "-cache")))
    return tmp_path


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "three"
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containerz: []
      containers:
      - image: nginx:1.27
        imagePulPolicy: Always
        env:
        - {name: DEBUG, value: true}
        resources:
          limits: {memory: 1 GB}
"""


def test_a_new_users_deployment_gets_every_mistake_at_its_key(capsys, here):
    (here / "d.yaml").write_text(DEPLOYMENT + "---\napiVersion: apps/v1\nkind: Deploymnet\n"
                                 "metadata: {name: x}\n")
    assert schema_lines(capsys, "d.yaml") == [
        'd.yaml:6:3: error invalid-field-type spec.replicas must be an integer, not a string ("three"): '
        "the API server rejects the object",
        'd.yaml:13:7: error unknown-field spec.template.spec.containerz is not a field of PodSpec (did you '
        'mean "containers"?): strict field validation rejects the object, and lenient decoding drops the '
        "field silently",
        "d.yaml:15:9: error missing-required-field spec.template.spec.containers[0] has no name, which "
        "Container requires: the API server rejects the object",
        "d.yaml:16:9: error unknown-field spec.template.spec.containers[0].imagePulPolicy is not a field "
        'of Container (did you mean "imagePullPolicy"?): strict field validation rejects the object, and '
        "lenient decoding drops the field silently",
        "d.yaml:18:25: error invalid-field-type spec.template.spec.containers[0].env[0].value must be a "
        "string, not a boolean (true): the API server rejects the object; quote it to keep it text",
        'd.yaml:20:20: error invalid-field-value spec.template.spec.containers[0].resources.limits.memory '
        'is "1 GB", which is not a quantity (a number with an optional suffix, such as 512Mi, 2Gi, 250m '
        "or 1.5): the API server rejects the object",
        'd.yaml:23:1: error unknown-kind the group apps has no kind Deploymnet in Kubernetes 1.37 (did you '
        'mean "Deployment"?): the API server rejects the object',
        "7 findings (7 errors, 0 warnings, 0 info) in 1 of 1 file; 2 documents, 2 objects checked.",
    ]


POD_RESOURCES = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  resources:
    limits: {memory: 1Gi}
  containers:
  - name: web
    image: nginx:1.27
"""


def test_the_target_release_decides_which_fields_exist(capsys, here):
    (here / "pod.yaml").write_text(POD_RESOURCES)
    assert schema_lines(capsys, "--kubernetes-version", "1.28", "pod.yaml")[0] == (
        'pod.yaml:6:3: error unknown-field spec.resources is not a field of PodSpec (did you mean '
        '"resourceClaims"?): strict field validation rejects the object, and lenient decoding drops '
        "the field silently")
    assert schema_lines(capsys, "--kubernetes-version", "1.37", "pod.yaml") == [
        "No findings in 1 file; 1 document, 1 object checked."]
    assert schema_lines(capsys, "pod.yaml") == ["No findings in 1 file; 1 document, 1 object checked."]


CRD = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.example.com
spec:
  group: example.com
  names: {kind: Backup, plural: backups}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [schedule]
            properties:
              schedule: {type: string}
              retention: {type: integer, minimum: 1}
"""
BACKUP = """\
apiVersion: example.com/v1
kind: Backup
metadata:
  name: nightly
spec:
  retension: 7
"""
BACKUP_FINDINGS = [
    "cr.yaml:5:1: error missing-required-field spec has no schedule, which the Backup CRD requires: "
    "the API server rejects the object",
    "cr.yaml:6:3: error unknown-field spec.retension is not a field of the Backup CRD (did you mean "
    '"retention"?): strict field validation rejects the object, and lenient decoding drops the field '
    "silently",
]


def test_a_crd_in_another_file_checks_its_custom_resources(capsys, here):
    (here / "crd.yaml").write_text(CRD)
    (here / "cr.yaml").write_text(BACKUP)
    assert schema_lines(capsys, ".") == BACKUP_FINDINGS + [
        "2 findings (2 errors, 0 warnings, 0 info) in 1 of 2 files; 2 documents, 2 objects checked."]


def test_a_crd_in_a_context_folder_counts_and_its_file_is_not_reported(capsys, here):
    (here / "crds").mkdir()
    (here / "crds" / "crd.yaml").write_text(CRD.replace("type: object\n        properties",
                                                         "type: object\n        foo: 1\n        properties"))
    (here / "cr.yaml").write_text(BACKUP)
    assert schema_lines(capsys, "--context", "crds", "cr.yaml") == BACKUP_FINDINGS + [
        "2 findings (2 errors, 0 warnings, 0 info) in 1 of 1 file; 1 document, 1 object checked; "
        "1 context file read."]


def test_a_crd_on_standard_input(capsys, here, monkeypatch):
    import io

    data = (CRD + "---\n" + BACKUP).encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    lines = schema_lines(capsys, "-")
    assert [line.split(" error ")[1].split(" ")[0] for line in lines[:-1]] == [
        "missing-required-field", "unknown-field"]
    assert lines[0].startswith("<stdin>:28:1: ")


def test_custom_resources_without_a_crd_are_counted_not_judged(capsys, here):
    (here / "cr.yaml").write_text(BACKUP + "---\n" + BACKUP.replace("nightly", "weekly") +
                                  "---\napiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\n"
                                  "metadata: {name: web}\nspec: {bogus: 1}\n")
    assert schema_lines(capsys, "cr.yaml") == [
        "No findings in 1 file; 3 documents, 3 objects checked; 3 objects of 2 kinds had no schema."]
    _code, out, _err = run(capsys, "check", "--config", "only-schema.yaml", "--format", "json", "cr.yaml")
    summary = json.loads(out)["summary"]
    assert summary["objectsWithoutSchema"] == {"example.com/Backup": 2,
                                               "monitoring.coreos.com/ServiceMonitor": 1}
    assert summary["kubernetesVersion"] == "1.37"


def test_a_kustomize_base_may_leave_its_selector_to_the_kustomization(capsys, here):
    (here / "base").mkdir()
    deployment = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
                  "  template:\n    spec:\n      containers: [{name: web, image: nginx:1.27}]\n")
    (here / "base" / "deployment.yaml").write_text(deployment)
    (here / "base" / "kustomization.yaml").write_text(
        "resources: [deployment.yaml]\ncommonLabels: {app: web}\n")
    (here / "plain.yaml").write_text(deployment)
    assert schema_lines(capsys, "--no-render", ".") == [
        "plain.yaml:4:1: error missing-required-field spec has no selector, which DeploymentSpec requires: "
        "the API server rejects the object",
        "1 finding (1 error, 0 warnings, 0 info) in 1 of 3 files; 3 documents, 2 objects checked."]
    from k8slint.kbuild import kustomize_command

    if kustomize_command() is not None:  # built, the base has the selector kustomize gives it
        assert schema_lines(capsys, ".") == [
            "plain.yaml:4:1: error missing-required-field spec has no selector, which DeploymentSpec "
            "requires: the API server rejects the object",
            "1 finding (1 error, 0 warnings, 0 info) in 1 of 2 files; 2 documents, 2 objects checked; "
            "1 Kustomize build root built."]


def test_one_mistake_one_finding_where_another_rule_owns_the_field(capsys, here):
    (here / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n"
        "    spec:\n      restartPolicy: never\n"
        "      containers: [{name: web, image: nginx:1.27, imagePullPolicy: always}]\n")
    _code, out, _err = run(capsys, "check", "d.yaml")
    rules = sorted({line.split(" ")[2] for line in out.splitlines()[:-1]})
    assert "invalid-image-pull-policy" in rules
    assert not set(rules) & set(SCHEMA_RULES)


def test_versions_outside_the_shipped_range_are_usage_errors(capsys, here):
    (here / "pod.yaml").write_text(POD_RESOURCES)
    code, _out, err = run(capsys, "check", "--kubernetes-version", "1.38", "pod.yaml")
    assert code == 2
    assert "Kubernetes 1.38 is outside the releases k8slint knows (1.28 to 1.37)" in err


# --- the shipped data ------------------------------------------------------------------------


def test_the_data_covers_exactly_the_supported_releases():
    assert shipped_versions() == [shown((1, minor)) for minor in range(OLDEST[1], NEWEST[1] + 1)]
    assert sum(p.stat().st_size for p in DATA.glob("*.json.gz")) < 400_000


def test_the_schema_page_shows_the_tables_of_the_code():
    from k8slint.docs import with_schema_tables

    page = (Path(__file__).resolve().parent.parent / "docs" / "schema.md").read_text(encoding="utf-8")
    assert with_schema_tables(page) == page, "run python -m k8slint.docs"
    assert "| core.v1.ContainerPort | `protocol` | `TCP`, `UDP`, `SCTP` |" in page


def test_value_sets_and_owned_fields_name_real_fields():
    known = builtin(NEWEST)
    for table in (VALUE_SETS, OWNED_FIELDS):
        for definition, fields in table.items():
            compiled = known.definition(definition)
            for field in fields:
                assert field.removesuffix("[]") in compiled.props, (definition, field)


def test_every_api_a_release_stops_serving_is_in_the_removed_table():
    with (DATA.parent / "removed-apis.csv").open(newline="") as stream:
        removed = {(row["apiVersion"], row["kind"]): parse_version(row["removed_in"])
                   for row in csv.DictReader(stream)}
    releases = [parse_version(v) for v in shipped_versions()]
    for older, newer in itertools.pairwise(releases):
        gone = set(builtin(older).kinds) - set(builtin(newer).kinds)
        for group, version, kind in gone:
            if kind.endswith("List"):
                continue
            api_version = f"{group}/{version}" if group else version
            assert removed.get((api_version, kind)) is not None, (api_version, kind, newer)
            assert removed[(api_version, kind)] <= newer, (api_version, kind)


# --- one walk, and an independent validator that agrees with it --------------------------------


def _corpus_objects(root: Path):
    from k8slint.loader import DecodeProblem, decode, load_text
    from k8slint.model import objects

    for path in sorted(root.rglob("*")):
        if path.suffix not in (".yaml", ".yml", ".json") or not path.is_file():
            continue
        try:
            text = decode(path.read_bytes())
        except DecodeProblem:
            continue
        for document in load_text(text, json_file=path.suffix == ".json").documents:
            for obj in objects(document):
                yield path, obj


def test_python_jsonschema_flags_the_same_objects_and_paths_on_the_corpus():
    import jsonschema

    from .schema_as_jsonschema import as_json_schema, format_checker, jsonschema_problems

    found = list(_corpus_objects(corpus_dir() / "real"))
    crds = tuple({(c.group, c.version, c.kind): c for path, obj in found
                  for c in crd_versions(obj.data, str(path))}.values())
    settings = Settings(kubernetes_version="1.37", crds=crds)
    validators: dict[int, object] = {}
    checked = flagged = 0
    mismatches = []
    for path, obj in found:
        resolution = resolve(ObjectView(obj.data), settings)
        if resolution.type is None:
            continue
        checked += 1
        ours = {(p.rule, tuple(json_key(s) if not isinstance(s, (str, int)) or isinstance(s, bool)
                               else s for s in p.path)) for p in validate(obj.data, resolution.type)}
        validator = validators.get(id(resolution.type))
        if validator is None:
            schema = as_json_schema(resolution.type)
            validator = jsonschema.Draft202012Validator(schema, format_checker=format_checker())
            validators[id(resolution.type)] = validator
        theirs = jsonschema_problems(validator, obj.data)
        flagged += bool(ours)
        if ours != theirs:
            mismatches.append((str(path), obj.kind, sorted(ours - theirs), sorted(theirs - ours)))
    assert mismatches == []
    assert checked > 2000 and flagged >= 15


# --- what an untrusted repository cannot do -----------------------------------------------------


def _crd(group: str, kind: str, schema: str) -> str:
    return (f"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
            f"metadata: {{name: x.{group}}}\nspec:\n  group: {group}\n"
            f"  names: {{kind: {kind}, plural: x}}\n  scope: Namespaced\n  versions:\n"
            f"  - name: v1\n    served: true\n    storage: true\n"
            f"    schema:\n      openAPIV3Schema: {schema}\n")


def test_crd_patterns_are_go_regular_expressions_matched_in_linear_time(here):
    import subprocess
    import sys

    (here / "crd.yaml").write_text(_crd("example.com", "Name", (
        "{type: object, properties: {spec: {type: object, properties: {"
        "nested: {type: string, pattern: '^(a+)+$'}, "
        "adjacent: {type: string, pattern: 'a*a*a*a*a*a*a*a*c'}, "
        "posix: {type: string, pattern: '^[[:alnum:]]+$'}, "
        "refused: {type: string, pattern: '(a)\\1'}}}}}")))
    (here / "cr.yaml").write_text("apiVersion: example.com/v1\nkind: Name\nmetadata: {name: x1}\n"
                                  f"spec:\n  nested: {'a' * 5000}!\n  adjacent: {'a' * 5000}\n"
                                  "  posix: abc123\n  refused: anything\n")
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", "--config", "only-schema.yaml",
                           "."], capture_output=True, text=True, timeout=60)
    assert [line.split(" ")[:4] for line in proc.stdout.splitlines()[:-1]] == [
        ["cr.yaml:5:3:", "error", "invalid-field-value", "spec.nested"],
        ["cr.yaml:6:3:", "error", "invalid-field-value", "spec.adjacent"],
    ]
    assert proc.stderr == ""  # RE2 logs nothing about the pattern it refused


def test_a_crd_cannot_replace_the_schema_of_a_built_in_kind(capsys, here):
    (here / "crd.yaml").write_text(_crd("apps", "Deployment",
                                        "{type: object, x-kubernetes-preserve-unknown-fields: true}"))
    (here / "d.yaml").write_text(DEPLOYMENT)
    assert [line.split(" ")[2] for line in schema_lines(capsys, ".")[:-1]] == [
        "invalid-field-type", "unknown-field", "missing-required-field", "unknown-field",
        "invalid-field-type", "invalid-field-value"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_of_two_crds_for_one_kind_the_first_by_path_wins_in_every_run(capsys, here, jobs):
    strict = "{type: object, properties: {spec: {type: object, properties: {size: {type: integer}}}}}"
    loose = "{type: object, x-kubernetes-preserve-unknown-fields: true}"
    (here / "a-crd.yaml").write_text(_crd("example.com", "Cache", strict))
    (here / "b-crd.yaml").write_text(_crd("example.com", "Cache", loose))
    (here / "cr.yaml").write_text("apiVersion: example.com/v1\nkind: Cache\nmetadata: {name: c1}\n"
                                  "spec: {size: 1, colour: red}\n")
    assert schema_lines(capsys, "-j", jobs, ".")[0].startswith("cr.yaml:4:17: error unknown-field spec.colour")
    (here / "a-crd.yaml").rename(here / "c-crd.yaml")
    assert schema_lines(capsys, "-j", jobs, ".")[0].startswith("No findings")


def test_a_run_keeps_one_crd_per_kind_the_one_chosen_whatever_order_results_come_in():
    from k8slint.engine import FileResult
    from k8slint.report import RunSummary
    from k8slint.schemas import CrdVersion
    from k8slint.session import Tally, chosen_crds

    def result(*crds: CrdVersion) -> FileResult:
        done = FileResult()
        done.crds = list(crds)
        return done

    def crd(kind: str, source: str, schema: str, version: str = "v1") -> CrdVersion:
        return CrdVersion("example.com", version, kind, schema, False, source)

    taken = [  # as a pool hands them back: not in path order
        result(crd("Cache", "c.yaml", "c"), crd("Queue", "c.yaml", "c")),
        result(crd("Cache", "b.yaml", "b-first"), crd("Cache", "b.yaml", "b-second"),
               crd("Cache", "b.yaml", "b-v2", version="v2")),
        result(crd("Queue", "a.yaml", "a"), crd("Cache", "a.yaml", "a", version="v2")),
    ]
    tally = Tally(RunSummary(), [])
    for done in taken:
        tally.take(done)
    every = [c for done in taken for c in done.crds]
    assert tally.crds == [crd("Queue", "a.yaml", "a"), crd("Cache", "a.yaml", "a", version="v2"),
                          crd("Cache", "b.yaml", "b-first")]
    assert chosen_crds(tally.crds, shown(NEWEST)) == chosen_crds(every, shown(NEWEST))


def test_a_schema_nested_past_the_stack_ends_quietly(capsys, here):
    depth = 400
    schema = "{type: object, properties: {a: " * depth + "{type: string}" + "}}" * depth
    (here / "deep.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: d}\n"
        "spec:\n  group: example.com\n  names: {kind: D, plural: ds}\n  scope: Namespaced\n"
        f"  versions:\n  - name: v1\n    served: true\n    storage: true\n"
        f"    schema:\n      openAPIV3Schema: {schema}\n")
    code, out, err = run(capsys, "check", "--config", "only-schema.yaml", "deep.yaml")
    assert (code, err) == (0, "")
    assert out == "No findings in 1 file; 1 document, 1 object checked.\n"


def test_one_mistake_one_finding_across_every_fixture():
    """No place of any fixture is both a schema finding and another rule's report of a
    value the API server rejects: where a rule owns a field, the schema rules are silent."""
    from .helpers import FIXTURES, lint

    for path in sorted(FIXTURES.rglob("fail*")):
        if path.suffix not in (".yaml", ".yml"):
            continue
        places: dict[tuple[int, int], set[str]] = {}
        for f in lint(path):
            if f.rule in SCHEMA_RULES or "rejects" in f.message:
                places.setdefault((f.line, f.column), set()).add(f.rule)
        for place, rules in places.items():
            schema = rules & set(SCHEMA_RULES)
            assert not (schema and rules - schema), (path, place, rules)


def test_what_the_api_server_accepts_is_not_flagged(capsys, here):
    (here / "ok.yaml").write_text(
        # Empty strings where the server fills in a default; times and base-60 looking
        # text, which the Kubernetes decoder keeps as text; 1e1 is a number to it.
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {type: '', sessionAffinity: '', selector: {app: web}, ports: [{port: 80, protocol: ''}]}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: windows}\n"
        "data: {backup-window: 22:00, start: 1:30}\n"
        "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: once}\n"
        "spec:\n  backoffLimit: 1e1\n  template:\n    spec:\n      restartPolicy: Never\n"
        "      tolerations: [{key: gpu, operator: ''}]\n"
        "      containers: [{name: c, image: 'busybox:1.36', args: [--at, 10:30], stdin: y}]\n"
        # Kinds and versions a script fills in, and files that are not API objects.
        "---\napiVersion: ${API_VERSION}\nkind: Deployment\nmetadata: {name: later}\n"
        "---\napiVersion: apps/v1\nkind: '{{ .Values.kind }}'\nmetadata: {name: later}\n"
        "---\napiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    assert schema_lines(capsys, "ok.yaml") == [
        "No findings in 1 file; 6 documents, 6 objects checked; 1 object of 1 kind had no schema."]


def test_text_that_the_decoder_reads_as_a_boolean_is_flagged(capsys, here):
    (here / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\n"
                                  "data: {DEBUG: n, VERBOSE: 'y'}\n")
    assert schema_lines(capsys, "cm.yaml")[0] == (
        "cm.yaml:4:8: error invalid-field-type data.DEBUG must be a string, not a boolean (false): "
        "the API server rejects the object; quote it to keep it text")


def test_rolling_update_and_budget_percentages(capsys, here):
    (here / "d.yaml").write_text(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
        "  selector: {matchLabels: {app: web}}\n"
        "  strategy: {rollingUpdate: {maxSurge: 25%, maxUnavailable: one}}\n"
        "  template:\n    metadata: {labels: {app: web}}\n"
        "    spec: {containers: [{name: web, image: 'nginx:1.27'}]}\n"
        "---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
        "spec: {minAvailable: '50', selector: {matchLabels: {app: web}}}\n")
    assert schema_lines(capsys, "d.yaml")[:2] == [
        'd.yaml:6:45: error invalid-field-value spec.strategy.rollingUpdate.maxUnavailable is "one": '
        "as text it must be a percentage such as 25%, else a whole number: the API server rejects the object",
        'd.yaml:14:8: error invalid-field-value spec.minAvailable is "50": as text it must be a '
        "percentage such as 25%, else a whole number: the API server rejects the object"]


def test_a_misspelt_required_field_is_one_finding(capsys, here):
    (here / "p.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n"
                                 "  containers:\n  - nam: web\n    image: nginx:1.27\n")
    assert schema_lines(capsys, "p.yaml") == [
        'p.yaml:6:5: error unknown-field spec.containers[0].nam is not a field of Container (did you '
        'mean "name"?): strict field validation rejects the object, and lenient decoding drops the '
        "field silently",
        "1 finding (1 error, 0 warnings, 0 info) in 1 of 1 file; 1 document, 1 object checked."]


def test_crd_properties_read_as_booleans_or_numbers_match_the_objects_keys(capsys, here):
    (here / "crd.yaml").write_text(_crd("example.com", "Switch", (
        "{type: object, properties: {spec: {type: object, properties: {on: {type: string}, "
        "404: {type: string}}}}}")))
    (here / "cr.yaml").write_text("apiVersion: example.com/v1\nkind: Switch\nmetadata: {name: s1}\n"
                                  "spec: {on: 'yes', 404: page}\n")
    assert schema_lines(capsys, ".") == ["No findings in 2 files; 2 documents, 2 objects checked."]


def test_a_malformed_crd_is_its_own_finding_and_no_internal_error(capsys, here):
    (here / "crd.yaml").write_text(_crd("example.com", "Odd", (
        "{type: object, properties: {spec: {type: object, required: 5, "
        "properties: {items: {type: array, items: [a]}, list: {type: object, properties: [a, b]}}}}}")))
    (here / "cr.yaml").write_text("apiVersion: example.com/v1\nkind: Odd\nmetadata: {name: o1}\n"
                                  "spec: {items: [1], list: {a: 1}, other: 1}\n")
    code, out, err = run(capsys, "check", "--config", "only-schema.yaml", ".")
    assert (code, err) == (1, "")
    assert [line.split(" ")[0] + " " + line.split(" ")[2] for line in out.splitlines()[:-1]] == [
        "cr.yaml:4:27: unknown-field",  # spec.list.a: a list of properties names none
        "cr.yaml:4:34: unknown-field",
        "crd.yaml:13:73: invalid-field-type",  # required: 5
        "crd.yaml:13:154: invalid-field-type",  # properties: [a, b]
    ]


def _deep_crd(levels: int) -> str:
    schema = "{type: object, properties: {a: " * levels + "{type: string}" + "}}" * levels
    return _crd("example.com", "Deep", schema)


def test_a_deep_crd_travels_to_workers_and_gives_the_same_findings(capsys, here):
    (here / "crd.yaml").write_text(_deep_crd(240))
    (here / "cr.yaml").write_text("apiVersion: example.com/v1\nkind: Deep\nmetadata: {name: d1}\n"
                                  "spec: {b: 1}\n---\napiVersion: example.com/v2\nkind: Deep\n"
                                  "metadata: {name: d2}\n")
    filler = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f%d}\ndata: {x: '%s'}\n"
    for n in range(40):  # enough files and bytes for the worker pool to start
        (here / f"f{n}.yaml").write_text(filler % (n, "x" * 20_000))
    single = schema_lines(capsys, "-j", "1", ".")
    assert schema_lines(capsys, "-j", "2", ".") == single
    assert [line.split(" ")[0] + " " + line.split(" ")[2] for line in single[:-1]] == [
        "cr.yaml:4:1: unknown-field", "cr.yaml:6:1: unknown-kind"]  # (its schema names only a)


def test_an_object_nested_past_the_walks_depth_keeps_its_other_findings(capsys, here):
    depth = 240
    schema = "{type: object, properties: {a: " * depth + "{type: string}" + "}}" * depth
    (here / "deep.yaml").write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: d}\n"
        "spec:\n  group: example.com\n  names: {kind: D, plural: ds}\n  scope: Namespaced\n"
        f"  versions:\n  - name: v1\n    served: true\n    storage: true\n"
        f"    schema:\n      openAPIV3Schema: {schema}\n  preserveUnknownFeilds: false\n")
    lines = schema_lines(capsys, "deep.yaml")
    assert [line.split(" ")[0] + " " + line.split(" ")[2] for line in lines[:-1]] == [
        "deep.yaml:14:3: unknown-field"]


def test_thousands_of_unknown_keys_get_a_bounded_number_of_suggestions(capsys, here):
    """Each suggestion compares a key with every field: past MAX_SUGGESTIONS an object's
    unknown keys are reported without one (3,000 suggestions over 3,000 fields took minutes)."""
    from k8slint.validate import MAX_SUGGESTIONS

    props = ", ".join(f"p{n}: {{type: string}}" for n in range(400))
    (here / "crd.yaml").write_text(_crd("example.com", "Wide", f"{{type: object, properties: {{{props}}}}}"))
    keys = "\n".join(f"p{n}x: x" for n in range(300))
    (here / "cr.yaml").write_text(f"apiVersion: example.com/v1\nkind: Wide\nmetadata: {{name: w}}\n{keys}\n")
    lines = schema_lines(capsys, "cr.yaml", "--context", ".")
    assert len(lines) == 301
    assert sum("did you mean" in line for line in lines) == MAX_SUGGESTIONS == 50
    assert 'cr.yaml:4:1: error unknown-field p0x is not a field of the Wide CRD (did you mean "p0"?)' in lines[0]
