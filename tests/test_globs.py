from __future__ import annotations

import pytest

from k8slint.globs import compile_globs


@pytest.mark.parametrize(
    "patterns, path, is_dir, expected",
    [
        (["vendor/**"], "vendor/a/b.yaml", False, True),
        (["vendor/**"], "src/vendor/a.yaml", False, False),  # anchored: has a slash
        (["vendor/"], "src/vendor/a.yaml", False, True),  # a folder name at any depth
        (["vendor/"], "vendor", False, False),  # a file named vendor is not a folder
        (["charts/**/templates/**"], "charts/web/templates/d.yaml", False, True),
        (["charts/**/templates/**"], "charts/templates/d.yaml", False, True),
        (["charts/**/templates/**"], "charts/web/values.yaml", False, False),
        (["*.json"], "deep/dir/x.json", False, True),
        (["*.json"], "deep/dir/x.yaml", False, False),
        (["/top.yaml"], "top.yaml", False, True),
        (["/top.yaml"], "sub/top.yaml", False, False),
        (["test?.yaml"], "test1.yaml", False, True),
        (["test?.yaml"], "test12.yaml", False, False),
        (["x[0-9].yaml"], "x7.yaml", False, True),
        (["*.yaml", "!keep.yaml"], "keep.yaml", False, False),
        (["*.yaml", "!keep.yaml"], "other.yaml", False, True),
        (["build/", "!build/keep.yaml"], "build/keep.yaml", False, True),  # folder stays out
        (["a/*/c.yaml"], "a/b/c.yaml", False, True),
        (["a/*/c.yaml"], "a/b/d/c.yaml", False, False),
        (["**/gen-*.yaml"], "x/y/gen-1.yaml", False, True),
    ],
)
def test_gitignore_semantics(patterns, path, is_dir, expected):
    assert compile_globs(patterns)(path, is_dir) is expected
