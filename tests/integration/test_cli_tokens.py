"""The command line under the tokens real apps use: an API-only user and the Public policy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pydirectus import DirectusClient
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants

from .cli_helpers import FIELDS, everything, one_line_error, rows, run_cli, token_of


@pytest.fixture
def seeded(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection(FIELDS)
    directus_client.collection(name).create_many(rows(45))
    return name


def test_an_api_only_token_queries_exports_and_imports_what_it_may(
        directus: DirectusServer, seeded: str, make_collection: Callable[..., str],
        directus_client: DirectusClient, tmp_path: Path) -> None:
    target = make_collection(FIELDS)
    with AccessGrants(directus_client) as grants:
        reader = token_of(grants.api_client({seeded: ["read"]}))
        writer = token_of(grants.api_client({target: ["create", "read"]}))
        queried = run_cli(directus.url, reader, "query", seeded, "--filter", "views__gt=200",
                          "--sort", "id", "--format", "json", "--page-size", "5")
        assert queried.returncode == 0, queried.stderr
        assert json.loads(queried.stdout) == list(
            directus_client.collection(seeded).filter(views__gt=200).sort("id"))
        path = tmp_path / "rows.jsonl"
        exported = run_cli(directus.url, reader, "export", seeded, "-o", str(path))
        assert exported.returncode == 0, exported.stderr
        denied = one_line_error(run_cli(directus.url, reader, "import", target, str(path)))
        assert "403" in denied and "stopped after writing 0 rows" in denied
        assert directus_client.collection(target).count() == 0
        imported = run_cli(directus.url, writer, "import", target, str(path))
        assert imported.returncode == 0, imported.stderr
        assert everything(directus_client, target) == everything(directus_client, seeded)
        other = one_line_error(run_cli(directus.url, reader, "query", target))
        assert "403" in other



def test_the_public_policy_queries_without_a_token(
        directus: DirectusServer, seeded: str, directus_client: DirectusClient) -> None:
    with AccessGrants(directus_client) as grants:
        grants.public_client({seeded: ["read"]})
        result = run_cli(directus.url, None, "query", seeded, "--exclude", "status=draft",
                         "--fields", "id,title", "--sort", "id", "--format", "jsonl",
                         "--page-size", "6")
        assert result.returncode == 0, result.stderr
        assert [json.loads(line) for line in result.stdout.splitlines()] == list(
            directus_client.collection(seeded).exclude(status="draft").fields("id", "title")
            .sort("id"))
        refused = one_line_error(run_cli(directus.url, None, "import", seeded, "-",
                                         "--format", "jsonl", stdin='{"title": "x"}\n'))
        assert "403" in refused
