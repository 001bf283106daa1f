"""The command line without a server: connecting (the password of --email when nobody can
type it) and the summaries it prints."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_types_from_a_snapshot_counts_its_models_in_words(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    snapshot = {"collections": [{"collection": "articles", "meta": {}, "schema": {}}],
                "fields": [{"collection": "articles", "field": "id", "type": "integer",
                            "meta": {}, "schema": {"is_nullable": False}}],
                "relations": []}
    (tmp_path / "schema.json").write_text(json.dumps(snapshot))
    assert main(["types", "--from", "schema.json", "-o", "models.py"]) == 0
    assert capsys.readouterr().err == "wrote 1 model to models.py\n"
    assert "class Article(TypedDict, total=False):" in (tmp_path / "models.py").read_text()
