"""A plain text run of one file imports only what it needs: start-up is the pre-commit cost."""

from __future__ import annotations

import json
import subprocess
import sys

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
