"""How the command line connects: the password of --email when nobody can type it."""

from __future__ import annotations

import pytest

from pydirectus.cli import main


def test_email_with_no_password_and_no_terminal_is_a_usage_error(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DIRECTUS_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("DIRECTUS_TOKEN", raising=False)
    monkeypatch.delenv("DIRECTUS_PASSWORD", raising=False)

    def no_input(prompt: str = "") -> str:
        raise EOFError  # what getpass raises with no terminal and an empty stdin

    monkeypatch.setattr("getpass.getpass", no_input)
    status = main(["query", "articles", "--email", "ann@example.com"])
    error = capsys.readouterr().err
    assert status == 2
    assert "--email ann@example.com: no password: set DIRECTUS_PASSWORD" in error
    assert "EOFError" not in error
