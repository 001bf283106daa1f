"""Clients holding the tokens real apps run on: an API-only user, and the Public policy.

Tests that only use the admin token miss everything a narrower token cannot do (read the
schema, say). ``api_client(admin, {"articles": ["read", "create"]})`` makes a role-less user
with its own policy (no app access, no admin access) and a static token, and returns a client
on that token; ``public_client(admin, {"articles": ["read"]})`` grants the Public policy
those permissions and returns a client with no token at all.

Pass ``grants=AccessGrants(admin)`` (or use one as a context manager) to have everything
they made removed afterwards; the ``token_clients`` pytest fixture does that for you.

The clients made have the admin client's face: a DirectusClient for a DirectusClient, a
bridged async client for a ``SyncOverAsync`` one.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from pydirectus import DirectusClient

__all__ = [
    "ACTIONS",
    "AccessGrants",
    "TokenClients",
    "api_client",
    "public_client",
    "public_policy_id",
]

ACTIONS = ("create", "read", "update", "delete")
Permissions = Mapping[str, Iterable[str] | str]


def _permission_rows(permissions: Permissions, policy: str) -> list[dict[str, Any]]:
    if not isinstance(permissions, Mapping):
        raise TypeError(f"permissions: expected a dict of collection -> actions, "
                        f"got {type(permissions).__name__}")
    rows: list[dict[str, Any]] = []
    for collection, actions in permissions.items():
        if not isinstance(collection, str) or not collection:
            raise ValueError(f"permissions: expected collection names, got {collection!r}")
        chosen = [actions] if isinstance(actions, str) else list(actions)
        unknown = [a for a in chosen if a not in ACTIONS]
        if unknown or not chosen:
            raise ValueError(f"permissions[{collection!r}]: expected some of {ACTIONS}, "
                             f"got {chosen!r}")
        rows.extend({"policy": policy, "collection": collection, "action": action,
                     "fields": ["*"], "permissions": {}, "validation": {}}
                    for action in dict.fromkeys(chosen))
    return rows


def public_policy_id(admin: DirectusClient) -> str:
    """Return the id of the Public policy (the access row with neither role nor user)."""
    rows = admin.transport.data("GET", "access", params={
        "filter": '{"_and":[{"role":{"_null":true}},{"user":{"_null":true}}]}',
        "fields": "policy", "limit": "1"})
    if not rows:
        raise LookupError("this Directus has no Public policy (no access row without role/user)")
    policy: str = rows[0]["policy"]
    return policy


def _client_like(admin: DirectusClient, *args: Any, **kwargs: Any) -> DirectusClient:
    """Return a client of the admin client's face (sync, or async through the bridge)."""
    from .bridge import face_client, face_of

    return face_client(face_of(admin), *args, **kwargs)


class AccessGrants:
    """Remember the users, policies and permission rows made here; ``revoke()`` removes them."""

    def __init__(self, admin: DirectusClient) -> None:
        self.admin = admin
        self.users: list[str] = []
        self.policies: list[str] = []
        self.permissions: list[int] = []
        self.clients: list[DirectusClient] = []

    def __repr__(self) -> str:
        return (f"<AccessGrants users={len(self.users)} policies={len(self.policies)} "
                f"permissions={len(self.permissions)}>")

    def api_client(self, permissions: Permissions, *, name: str | None = None) -> DirectusClient:
        """Return a client for a new role-less user whose own policy holds the permissions."""
        return api_client(self.admin, permissions, name=name, grants=self)

    def public_client(self, permissions: Permissions) -> DirectusClient:
        """Grant the Public policy the permissions; return a client that sends no token."""
        return public_client(self.admin, permissions, grants=self)

    def revoke(self) -> None:
        """Close the clients handed out and delete every user, policy and permission made."""
        transport = self.admin.transport
        while self.clients:
            self.clients.pop().close()
        if self.permissions:
            transport.data("DELETE", "permissions", json=self.permissions)
            self.permissions = []
        if self.users:
            transport.data("DELETE", "users", json=self.users)
            self.users = []
        if self.policies:
            transport.data("DELETE", "policies", json=self.policies)
            self.policies = []

    def __enter__(self) -> AccessGrants:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.revoke()


def api_client(admin: DirectusClient, permissions: Permissions, *, name: str | None = None,
               grants: AccessGrants | None = None) -> DirectusClient:
    """Create a policy (no app/admin access) and a role-less user on it; return its client.

    ``permissions`` maps collection -> actions among create/read/update/delete, each on all
    fields. The user reaches its policy through POST /access and holds a static token; the
    caller closes the returned client (``grants`` records all of it for later removal).
    """
    from pydirectus import StaticToken

    label = name or f"api-{secrets.token_hex(4)}"
    transport = admin.transport
    policy = transport.data("POST", "policies", json={
        "name": label, "icon": "key", "app_access": False, "admin_access": False})["id"]
    if grants is not None:
        grants.policies.append(policy)
    rows = _permission_rows(permissions, policy)
    if rows:
        transport.data("POST", "permissions", json=rows)
    token = secrets.token_urlsafe(24)
    user = transport.data("POST", "users", json={
        "email": f"{label}@example.com", "first_name": label, "status": "active",
        "token": token})["id"]
    if grants is not None:
        grants.users.append(user)
    transport.data("POST", "access", json={"user": user, "policy": policy})
    client = _client_like(admin, admin.url, auth=StaticToken(token))
    if grants is not None:
        grants.clients.append(client)
    return client


def public_client(admin: DirectusClient, permissions: Permissions, *,
                  grants: AccessGrants | None = None) -> DirectusClient:
    """Add the permissions to the Public policy; return a client that sends no token.

    The permission rows stay until removed (``grants`` records them); the caller closes the
    returned client.
    """
    rows = _permission_rows(permissions, public_policy_id(admin))
    if rows:
        created = admin.transport.data("POST", "permissions", json=rows,
                                       params={"fields": "id"})
        if grants is not None:
            # Directus appends the app's built-in system rows (no id) to the answer.
            grants.permissions.extend(row["id"] for row in created if "id" in row)
    client = _client_like(admin, admin.url)
    if grants is not None:
        grants.clients.append(client)
    return client


@attrs.frozen
class TokenClients:
    """Three clients on one collection: admin, an API-only user (CRUD), and Public (read)."""

    collection: str
    admin: DirectusClient
    api: DirectusClient
    public: DirectusClient

    def items(self) -> tuple[tuple[str, DirectusClient], ...]:
        """Return (label, client) pairs, admin first."""
        return (("admin", self.admin), ("api", self.api), ("public", self.public))
