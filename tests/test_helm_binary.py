"""The helm-binary path of k8slint.helm (``helm template`` on PATH), against a test double.

tests/data/fake-helm/helm behaves as ``helm template`` is documented to (documents sorted
by kind in Helm's install order, hooks after them, ``# Source:`` headers, ``Error: ...`` on
stderr with exit code 1) and renders with the embedded engine of helm-python-sdk. With it
first on PATH, every chart must lint to the same findings (rule, file, line, column,
message, ...) as through the SDK path, and render errors must land at the same place.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sys
import time
from importlib.util import find_spec
from pathlib import Path

import pytest

from k8slint import helm

from .helpers import CORPUS, FIXTURES, make_git_folder, run

DATA = Path(__file__).parent / "data"
FAKE = DATA / "fake-helm"
CHARTS = CORPUS / "charts"

pytestmark = pytest.mark.skipif(find_spec("helm_python") is None,
                                reason="the double renders with helm-python-sdk (the k8slint[helm] extra)")


def _path_without_helm() -> str:
    """PATH less every folder that has a helm, with this interpreter's folder first (the
    double runs with the python3 found on PATH)."""
    folders = [f for f in os.environ.get("PATH", "").split(os.pathsep)
               if f and not os.path.exists(os.path.join(f, "helm"))]
    return os.pathsep.join([os.path.dirname(sys.executable), *folders])


SDK_PATH = _path_without_helm()
HELM_PATH = os.pathsep.join([str(FAKE), SDK_PATH])


@pytest.fixture
def use_helm(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", HELM_PATH)


@pytest.fixture
def use_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", SDK_PATH)


def test_the_double_is_the_engine(use_helm: None) -> None:
    assert helm.helm_engine() == "helm"
    assert shutil.which("helm") == str(FAKE / "helm")


def test_without_it_the_sdk_is_the_engine(use_sdk: None) -> None:
    assert helm.helm_engine() == "sdk"


# --- the same findings through both engines ---------------------------------------------------


def _charts() -> list[Path]:
    found = [DATA / "helm" / "app", DATA / "helm" / "broken"]
    found += sorted(FIXTURES.glob("*/fail-helm")) + sorted(FIXTURES.glob("*/pass-helm"))
    found += sorted(p for p in (FIXTURES / "helm-render-error").iterdir() if p.is_dir())
    if (CHARTS / "INDEX.tsv").is_file():
        with open(CHARTS / "INDEX.tsv", encoding="utf-8", newline="") as stream:
            found += [CHARTS / row["chart_dir"] for row in csv.DictReader(stream, delimiter="\t")]
    return found


def _lint(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, path_env: str,
          chart: Path, *extra: str) -> tuple[int, list[dict]]:
    monkeypatch.setenv("PATH", path_env)
    code, out, err = run(capsys, "check", str(chart), "--format", "json", "--require-render", *extra)
    assert code in (0, 1), err
    return code, json.loads(out)["findings"]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    make_git_folder(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    return tmp_path


@pytest.mark.parametrize("chart", _charts(), ids=lambda p: str(p).replace(str(CORPUS), "corpus"))
def test_findings_are_the_same_through_helm_and_the_sdk(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        elsewhere: Path, chart: Path) -> None:
    sdk = _lint(capsys, monkeypatch, SDK_PATH, chart)
    through_helm = _lint(capsys, monkeypatch, HELM_PATH, chart)
    assert through_helm == sdk


ORDERED = {
    # Helm prints these documents Service, ServiceAccount-led b.yaml, Deployments, then the
    # hook; the SDK path keeps each template's own order.
    "a.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: nope}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: batch/v1
kind: Job
metadata:
  generateName: job-
  annotations: {"helm.sh/hook": post-install}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: j, image: "busybox:1"}]
---
apiVersion: batch/v1
kind: Job
metadata:
  generateName: job-
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: j, image: "busybox:2", env: [{name: A, value: x}, {name: A, value: z}]}]
""",
    "b.yaml": """\
apiVersion: v1
kind: ServiceAccount
metadata:
  name: sa
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    description: a plain scalar that goes on
      over two more lines, as generated
      CRDs' descriptions do
spec:
  replicas: {{ .Values.replicas }}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      serviceAccountName: missing
      containers:
      - name: web
        image: nginx:latest
        imagePullPolicy: IfNotPresent
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  maxUnavailable: 0
  selector: {matchLabels: {app: web}}
""",
}


def test_documents_sorted_by_kind_keep_their_places(capsys: pytest.CaptureFixture[str],
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    elsewhere: Path) -> None:
    """Helm reorders documents across and within templates; markers still place them (and
    a multi-line plain scalar gets no marker that would break Helm's YAML parse)."""
    chart = _chart(elsewhere / "charts", ORDERED, "replicas: 1\n")
    sdk = _lint(capsys, monkeypatch, SDK_PATH, chart)
    through_helm = _lint(capsys, monkeypatch, HELM_PATH, chart)
    assert through_helm == sdk
    places = {(f["rule"], Path(f["file"]).name, f["line"], f["column"]) for f in sdk[1]}
    assert {("single-replica", "b.yaml", 15, 3), ("dangling-service", "a.yaml", 20, 3),
            ("duplicate-env-var", "a.yaml", 42, 21), ("pdb-blocks-drain", "b.yaml", 30, 3)} <= places


def test_a_line_a_plain_scalar_continues_gets_no_marker() -> None:
    text = ("a: one\n"            # 1 continued below: no marker
            "  two\n"             # 2 continued below: no marker
            "  three\n"           # 3 the scalar's last line: marked
            "b: |\n"              # 4 a block scalar: marked
            "  in block\n"        # 5 marked
            "c:\n"                # 6 a key opening a block: marked
            "  d: 1\n"            # 7 marked
            "e: x\n"              # 8 next line is a list item: marked
            "  - y\n")            # 9 marked
    assert helm._scan(text).markable == [False, False, True, True, True, True, True, True, True, False]


def test_a_template_that_is_not_yaml_is_an_error_at_it_through_helm(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, elsewhere: Path) -> None:
    """Known difference: helm template refuses a chart whose output does not parse, so the
    error is the template's (line 1); the SDK path lints the rest and points at the line."""
    chart = _chart(elsewhere / "charts", {"x.yaml": CONFIGMAP + "  a: b: c\n"})
    _code, [sdk] = _lint(capsys, monkeypatch, SDK_PATH, chart)
    _code, [through_helm] = _lint(capsys, monkeypatch, HELM_PATH, chart)
    assert (sdk["rule"], sdk["line"], sdk["column"]) == ("parse-error", 6, 3)
    assert (through_helm["rule"], through_helm["file"], through_helm["line"], through_helm["column"]) == (
        "helm-render-error", sdk["file"], 1, 1)
    assert through_helm["message"].startswith("YAML parse error on demo/templates/x.yaml: ")


def test_the_double_was_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                            elsewhere: Path) -> None:
    log = elsewhere / "helm.log"
    monkeypatch.setenv("FAKE_HELM_LOG", str(log))
    _lint(capsys, monkeypatch, HELM_PATH, DATA / "helm" / "app", "--kubernetes-version", "1.30")
    [argv] = [json.loads(line) for line in log.read_text().splitlines()]
    assert argv[0:2] == ["template", "release-name"]
    assert argv[3:] == ["--namespace", "default", "--kube-version", "1.30.0"]


# --- render errors ----------------------------------------------------------------------------


def _chart(root: Path, templates: dict[str, str], values: str = "") -> Path:
    chart = root / "demo"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    for name, text in templates.items():
        (chart / "templates" / name).write_text(text)
    return chart


CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
BROKEN = {
    "required": {"x.yaml": CONFIGMAP + "  a: {{ required \"set a\" .Values.a }}\n"},
    "fail": {"x.yaml": CONFIGMAP + "  {{- if not .Values.a }}\n  {{- fail \"no a\" }}\n  {{- end }}\n"},
    "nil-pointer": {"x.yaml": CONFIGMAP + "  a: {{ .Values.a.b.c }}\n"},
    "parse": {"x.yaml": CONFIGMAP + "  a: {{ .Values.a \n"},
    "undefined-function": {"x.yaml": CONFIGMAP + "  a: {{ nosuchfunction .Values.a }}\n"},
    "include-missing": {"x.yaml": CONFIGMAP + "  a: {{ include \"nothing\" . }}\n"},
    "in-a-helper": {"_helpers.tpl": "{{ define \"h\" }}{{ required \"need b\" .Values.b }}{{ end }}\n",
                    "x.yaml": CONFIGMAP + "  a: {{ include \"h\" . }}\n"},
}


def _errors(chart: Path, **options: object) -> list[helm.RenderError]:
    rendered = helm.render_chart(str(chart), kube_version="1.37", **options)  # type: ignore[arg-type]
    assert rendered.pieces == []
    return rendered.errors


@pytest.mark.parametrize("knobs", [{}, {"FAKE_HELM_WARNINGS": "1"}, {"FAKE_HELM_CRLF": "1"},
                                   {"FAKE_HELM_WARNINGS": "1", "FAKE_HELM_CRLF": "1"}],
                         ids=["plain", "warnings", "crlf", "warnings-crlf"])
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_render_errors_land_where_the_sdks_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              case: str, knobs: dict[str, str]) -> None:
    chart = _chart(tmp_path, BROKEN[case])
    monkeypatch.setenv("PATH", SDK_PATH)
    sdk = _errors(chart)
    monkeypatch.setenv("PATH", HELM_PATH)
    for name, value in knobs.items():
        monkeypatch.setenv(name, value)
    assert _errors(chart) == sdk
    assert sdk[0].file == str(chart / "templates" / "x.yaml")  # a helper's error: at its include


def test_a_broken_values_file_is_an_error_at_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = _chart(tmp_path, {"x.yaml": CONFIGMAP + "  a: {{ .Values.a | quote }}\n"})
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: 1\nb: [\n")
    monkeypatch.setenv("PATH", SDK_PATH)
    sdk = _errors(chart, values=[str(bad)])
    monkeypatch.setenv("PATH", HELM_PATH)
    monkeypatch.setenv("FAKE_HELM_WARNINGS", "1")
    [error] = _errors(chart, values=[str(bad)])
    assert (error.file, error.line, error.column) == (sdk[0].file, sdk[0].line, sdk[0].column) == (str(bad), 2, 1)
    # Helm names the file it could not parse; the SDK, given the text, cannot.
    assert error.message == f"failed to parse {bad}: {sdk[0].message}"


# --- Helm's own stderr, as Helm 3 and 4 print it ---------------------------------------------------


@pytest.mark.parametrize(("stderr", "expected"), [
    ("Error: execution error at (demo/templates/x.yaml:6:15): set a\n\n"
     "Use --debug flag to render out invalid YAML\n",
     ("x.yaml", 6, 16, "execution error at (demo/templates/x.yaml:6:15): set a")),
    ("Error: template: demo/templates/x.yaml:6:9: executing \"demo/templates/x.yaml\" at "
     "<.Values.a.b.c>: nil pointer evaluating interface {}.c\r\n\r\n"
     "Use --debug flag to render out invalid YAML\r\n",
     ("x.yaml", 6, 10, "template: demo/templates/x.yaml:6:9: executing \"demo/templates/x.yaml\" at "
                       "<.Values.a.b.c>: nil pointer evaluating interface {}.c")),
    ("WARNING: Kubernetes configuration file is group-readable. This is insecure. Location: "
     "/home/runner/.kube/config\nwalk.go:75: found symbolic link in path: /x (demo/templates/y.yaml:1:1)\n"
     "Error: parse error at (demo/templates/x.yaml:6): unclosed action\n",
     ("x.yaml", 6, 1, "parse error at (demo/templates/x.yaml:6): unclosed action")),
    ("Error: demo/templates/x.yaml:6:9\n  executing \"demo/templates/x.yaml\" at <.Values.a.b.c>:\n"
     "    nil pointer evaluating interface {}.c\n",
     ("x.yaml", 6, 10, "demo/templates/x.yaml:6:9 executing \"demo/templates/x.yaml\" at "
                       "<.Values.a.b.c>: nil pointer evaluating interface {}.c")),
])
def test_helm_stderr_is_read_for_its_error(tmp_path: Path, stderr: str,
                                           expected: tuple[str, int, int, str]) -> None:
    chart = _chart(tmp_path, {"x.yaml": CONFIGMAP + "  c: {{ .Values.a.b.c }} # a line long enough\n"})
    copy = helm._Copy(str(chart), [], {"demo/": str(chart)}, {})
    failure = helm._Failure("render", helm._helm_error(stderr))
    error = helm._error(failure, copy, str(chart / "Chart.yaml"), [], str(tmp_path / "t"), str(chart), "n")
    name, line, column, message = expected
    assert error == helm.RenderError(str(chart / "templates" / name), line, column, message)


# --- limits -----------------------------------------------------------------------------------


def test_a_hung_helm_is_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = _chart(tmp_path, {"x.yaml": CONFIGMAP + "  a: b\n"})
    monkeypatch.setenv("PATH", HELM_PATH)
    monkeypatch.setenv("FAKE_HELM_SLEEP", "60")
    began = time.monotonic()
    errors = _errors(chart, timeout=2.0)
    assert time.monotonic() - began < 10
    assert errors == [helm.RenderError(str(chart / "Chart.yaml"), 1, 1,
                                       "rendering took longer than 2 s and was stopped")]


def test_helm_output_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = _chart(tmp_path, {"x.yaml": CONFIGMAP + "  a: b\n"})
    monkeypatch.setenv("PATH", HELM_PATH)
    monkeypatch.setattr(helm, "MAX_OUTPUT_BYTES", 1 << 20)
    monkeypatch.setenv("FAKE_HELM_FLOOD", str(3 << 20))
    errors = _errors(chart)
    assert errors == [helm.RenderError(str(chart / "Chart.yaml"), 1, 1,
                                       f"the rendered output is larger than {1 << 20:,} bytes")]


def test_helm_stderr_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chart = _chart(tmp_path, {"x.yaml": CONFIGMAP + "  a: {{ required \"" + "x" * 200_000 + "\" .Values.a }}\n"})
    monkeypatch.setenv("PATH", HELM_PATH)
    [error] = _errors(chart)
    assert error.file == str(chart / "templates" / "x.yaml") and (error.line, error.column) == (6, 9)
    assert len(error.message) == helm.MAX_MESSAGE
