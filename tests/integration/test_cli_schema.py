"""`pydirectus schema snapshot/diff/apply` as subprocesses against a real Directus."""

from __future__ import annotations

import json
from pathlib import Path

from pydirectus import DirectusClient
from pydirectus.system.schema import ManyToOne
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants

from .cli_helpers import one_line_error, run_cli, token_of


def test_snapshot_diff_and_apply_bring_a_schema_back(
        directus: DirectusServer, directus_client: DirectusClient, tmp_path: Path) -> None:
    schema = directus_client.schema
    schema.define("cli_shop_categories", {"name": "string"})
    schema.define("cli_shop_products", {"title": "string", "price": "float",
                                        "category": ManyToOne("cli_shop_categories")})
    try:
        url, token = directus.url, directus.admin_token
        snap = run_cli(url, token, "schema", "snapshot", "-o", "schema.json", cwd=tmp_path)
        assert snap.returncode == 0, snap.stderr
        assert snap.stderr.startswith("wrote the schema of ")
        snapshot = json.loads((tmp_path / "schema.json").read_text())
        assert {"cli_shop_categories", "cli_shop_products"} <= {
            c["collection"] for c in snapshot["collections"]}
        same = run_cli(url, token, "schema", "diff", "schema.json", cwd=tmp_path)
        assert same.returncode == 0 and same.stdout == ""
        assert same.stderr.strip() == "the schemas match: nothing to apply"

        # The target loses both collections; the diff and its application bring them back.
        directus_client.collections.delete("cli_shop_products")
        directus_client.collections.delete("cli_shop_categories")
        diff = run_cli(url, token, "schema", "diff", "schema.json", "-o", "diff.json",
                       cwd=tmp_path)
        assert diff.returncode == 0, diff.stderr
        assert diff.stderr.strip().startswith("differences: 2 collections, ")
        assert "relation" in diff.stderr
        applied = run_cli(url, token, "schema", "apply", "diff.json", cwd=tmp_path)
        assert applied.returncode == 0, applied.stderr
        assert applied.stderr.startswith("applied: 2 collections")
        directus_client.refresh_schema()
        category = directus_client.collection("cli_shop_categories").create({"name": "Tea"})
        product = directus_client.collection("cli_shop_products").create(
            {"title": "Sencha", "price": 4.5, "category": category["id"]})
        read = directus_client.collection("cli_shop_products").fields(
            "title", "category.name").get(product["id"])
        assert read == {"title": "Sencha", "category": {"name": "Tea"}}

        # Applying the old diff again: Directus refuses it, its hash no longer matches.
        stale = one_line_error(run_cli(url, token, "schema", "apply", "diff.json",
                                       cwd=tmp_path))
        assert "400" in stale or "hash" in stale.lower()
        # A snapshot applies in one step (diffed first); nothing differs now.
        again = run_cli(url, token, "schema", "apply", "schema.json", cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stderr.strip() == "the schemas match: nothing to apply"
    finally:
        for name in ("cli_shop_products", "cli_shop_categories"):
            if any(c["collection"] == name for c in directus_client.collections.all()):
                directus_client.collections.delete(name)


def test_schema_needs_an_admin_and_a_schema_file(
        directus: DirectusServer, directus_client: DirectusClient, tmp_path: Path) -> None:
    with AccessGrants(directus_client) as grants:
        token = token_of(grants.api_client({"directus_users": ["read"]}))
        denied = one_line_error(run_cli(directus.url, token, "schema", "snapshot"))
    assert "403" in denied
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "other.json").write_text('{"a": 1}')
    url, admin = directus.url, directus.admin_token
    assert "not JSON" in one_line_error(run_cli(url, admin, "schema", "diff", "broken.json",
                                                cwd=tmp_path))
    assert "expected a JSON object" in one_line_error(
        run_cli(url, admin, "schema", "diff", "list.json", cwd=tmp_path))
    assert "neither a diff" in one_line_error(
        run_cli(url, admin, "schema", "apply", "other.json", cwd=tmp_path))
    assert "snapshot: missing" in one_line_error(
        run_cli(url, admin, "schema", "diff", "other.json", cwd=tmp_path))
    assert "ACTION" in one_line_error(run_cli(url, admin, "schema"))
