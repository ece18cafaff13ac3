"""The console's secret: from the environment, else made once under var_dir and kept."""

from __future__ import annotations

import stat

from core.secrets import ENV, web_secret


def test_secret_is_made_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    first = web_secret(tmp_path)
    assert len(first) >= 32
    assert web_secret(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "web-secret").stat().st_mode)
    assert mode == 0o600


def test_environment_secret_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV, "from-the-environment")
    assert web_secret(tmp_path) == "from-the-environment"
    assert not (tmp_path / "web-secret").exists()
