"""Every test starts with an empty result cache of its own, outside the trees it lints:
a warm entry from another test (or from the user's own runs) would hide what a test
changes in this process (a rule patched to fail, say)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _own_result_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
