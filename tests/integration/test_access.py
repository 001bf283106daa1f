"""The token helpers make what they promise, and remove it afterwards."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pydirectus import DirectusClient, PermissionDenied
from pydirectus.testing.access import AccessGrants, TokenClients, api_client, public_policy_id


def _rows(admin: DirectusClient, route: str, **filters: Any) -> list[dict[str, Any]]:
    import json

    rows: list[dict[str, Any]] = admin.transport.data(
        "GET", route, params={"filter": json.dumps(filters), "limit": "-1"})
    return rows


def test_api_user_has_exactly_its_permissions(token_clients: TokenClients) -> None:
    name, api = token_clients.collection, token_clients.api.transport
    created = api.data("POST", "items", name, json={"title": "a"})
    assert api.data("GET", "items", name, created["id"])["title"] == "a"
    api.data("PATCH", "items", name, created["id"], json={"title": "b"})
    api.data("DELETE", "items", name, created["id"])
    with pytest.raises(PermissionDenied):
        api.data("GET", "collections", name)  # no schema read: like a real API-only token


def test_api_user_has_no_role_and_one_policy_without_app_access(
        directus_client: DirectusClient) -> None:
    with AccessGrants(directus_client) as grants:
        grants.api_client({"anything": "read"})
        user = directus_client.transport.data("GET", "users", grants.users[0], params={
            "fields": "role,policies.policy.app_access,policies.policy.admin_access"})
    assert user["role"] is None
    assert [p["policy"] for p in user["policies"]] == [
        {"app_access": False, "admin_access": False}]


def test_public_client_reads_but_does_not_write(token_clients: TokenClients) -> None:
    name = token_clients.collection
    token_clients.admin.transport.data("POST", "items", name, json={"title": "x"})
    public = token_clients.public.transport
    assert [row["title"] for row in public.data("GET", "items", name)] == ["x"]
    with pytest.raises(PermissionDenied):
        public.data("POST", "items", name, json={"title": "y"})
    assert token_clients.public.auth is None


def test_grants_remove_what_they_made(directus_client: DirectusClient,
                                      make_collection: Callable[..., str]) -> None:
    name = make_collection({"title": "string"})
    with AccessGrants(directus_client) as grants:
        api = grants.api_client({name: "read"})
        grants.public_client({name: ["read"]})
        assert api.transport.data("GET", "items", name) == []
        users, policies = list(grants.users), list(grants.policies)
    assert not _rows(directus_client, "users", id={"_in": users})
    assert not _rows(directus_client, "policies", id={"_in": policies})
    assert not _rows(directus_client, "permissions", collection={"_eq": name},
                     policy={"_eq": public_policy_id(directus_client)})


@pytest.mark.parametrize("permissions", [{"c": ["browse"]}, {"c": []}, ["c"], {"": "read"}])
def test_bad_permissions_are_refused_before_any_request(
        permissions: Any, directus_client: DirectusClient) -> None:
    with pytest.raises((TypeError, ValueError)):
        api_client(directus_client, permissions)
