"""The progress bar: on stderr for a person at a terminal, never in a report or a pipe."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

MANIFEST = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\ndata: {a: b}\n"


@pytest.fixture
def many_files(tmp_path):
    for n in range(250):
        (tmp_path / f"m{n:03}.yaml").write_text(MANIFEST % n)
    return tmp_path


def test_no_progress_when_not_a_terminal(many_files):
    proc = subprocess.run([sys.executable, "-m", "k8slint", "check", str(many_files)],
                          capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert proc.stdout == "No findings in 250 files; 250 documents, 250 objects checked.\n"


def test_progress_on_a_terminal_is_erased_before_the_report(many_files):
    main, secondary = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "k8slint", "check", "-j1", str(many_files)],
                            stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    assert proc.wait() == 0
    os.close(main)
    screen = b"".join(chunks).decode()
    assert "] 250/250 files" in screen
    # The bar is drawn with carriage returns and blanked before the report is printed.
    last_bar = screen.rindex("250/250 files")
    report = screen[last_bar:].replace("\r\n", "\n").split("\r")[-1]
    assert report.strip() == "No findings in 250 files; 250 documents, 250 objects checked."
