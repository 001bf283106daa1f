"""Users, roles, policies and permissions: the handles and their extra routes (me, invite, 2FA)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from ..checks import (
    check_data,
    check_email,
    check_key,
    check_name,
    check_text,
    check_url,
    check_uuid,
    fields_params,
)
from ..collection import DEFAULT_PAGE_SIZE
from ..core import plans
from ..core.plans import Plan
from ..core.reads import ReadRules
from ..core.schema import SchemaCache
from ..errors import (
    InvalidRequest,
    PermissionDenied,
    ServerError,
    UnexpectedRedirect,
    UsageError,
)
from ..models import Permission as PermissionRecord
from ..models import Policy, Role, User
from .handles import SystemCollection, discard

__all__ = ["Permissions", "Policies", "Roles", "Users"]

#: where GET /users/register/verify-email sends the browser once the user is verified
_VERIFIED_USER = re.compile(r"/admin/users/([0-9a-fA-F-]{36})(?:[/?#]|$)")

#: GET /permissions/me: collection -> action -> {access, fields, ...}
_RIGHTS = plans.Shape(
    "an object of collection -> action -> permission objects",
    lambda value: isinstance(value, dict) and all(
        isinstance(actions, dict) and all(isinstance(right, dict) for right in actions.values())
        for actions in value.values()))


class Users(SystemCollection[User]):
    """The /users handle, with /users/me, invitations, registration and two-factor auth."""

    NAME = "directus_users"

    def me(self, *, fields: Sequence[str] | None = None) -> User:
        """Return the current user from GET /users/me ({id} only if it may not read itself)."""
        return cast("User", self._run(plans.data("GET", "users", "me",
                                                 params=fields_params(fields),
                                                 expect=plans.OBJECT)))

    def update_me(self, data: Mapping[str, Any], *,
                  fields: Sequence[str] | None = None) -> User:
        """Update the current user with PATCH /users/me; return it."""
        body = dict(check_data(data))
        return cast("User", self._run(plans.data("PATCH", "users", "me",
                                                 params=fields_params(fields), json=body,
                                                 expect=plans.OBJECT_OR_NOTHING)))

    def invite(self, email: str | Sequence[str], role: str,
               invite_url: str | None = None) -> None:
        """Invite one or more people by email into a role with POST /users/invite.

        Raises PermissionDenied when the token may not create users (Directus itself would
        answer 204 without inviting anyone).
        """
        emails: str | list[str]
        if isinstance(email, str):
            emails = check_email(email)
        elif isinstance(email, Sequence) and email:
            emails = [check_email(e, f"email[{i}]") for i, e in enumerate(email)]
        else:
            raise UsageError(f"email: expected an address or a list of them, got {email!r}")
        body: dict[str, Any] = {"email": emails, "role": check_uuid(role, "role")}
        if invite_url is not None:
            body["invite_url"] = check_url(invite_url, "invite_url")
        return self._run(self._invite(body))

    def _invite(self, body: dict[str, Any]) -> Plan[None]:
        # Directus answers 204 and invites no one when the token may not create users:
        # ask first (GET /permissions/me), so the refusal is not silent.
        rights = (yield from plans.data("GET", "permissions", "me", expect=_RIGHTS))
        if ((rights.get("directus_users") or {}).get("create") or {}).get(
                "access", "none") == "none":
            raise PermissionDenied(403, "FORBIDDEN", "invite: this token may not create users, "
                                   "so Directus would answer 204 without inviting anyone",
                                   {"reason": "no create permission on directus_users"})
        yield from plans.data("POST", "users", "invite", json=body, expect=plans.NOTHING)

    def accept_invite(self, token: str, password: str) -> None:
        """Accept an invitation (set the password, activate) with POST /users/invite/accept."""
        body = {"token": check_text(token, "token"), "password": check_text(password, "password")}
        return self._run(discard(plans.data("POST", "users", "invite", "accept", json=body,
                                            authenticate=False, expect=plans.NOTHING)))

    def register(self, email: str, password: str, *, verification_url: str | None = None,
                 first_name: str | None = None, last_name: str | None = None) -> None:
        """Register a new user (public registration must be on) with POST /users/register."""
        body: dict[str, Any] = {"email": check_email(email),
                                "password": check_text(password, "password")}
        if verification_url is not None:
            body["verification_url"] = check_url(verification_url, "verification_url")
        for name, value in (("first_name", first_name), ("last_name", last_name)):
            if value is not None:
                body[name] = check_text(value, name)
        return self._run(discard(plans.data("POST", "users", "register", json=body,
                                            authenticate=False, expect=plans.NOTHING)))

    def register_verify(self, token: str) -> str:
        """Verify a registered user's email with GET /users/register/verify-email; return
        the user's id.

        ``token`` is the one in the verification link Directus emailed (its ``token``
        query parameter). Directus answers with a redirect to the app rather than JSON:
        to the user's page when the account is now active (the id is read from it), to the
        login page when the token is not one. An expired, forged or already used token
        raises from the error tree (AuthenticationError, PermissionDenied, InvalidRequest).
        """
        return self._run(self._register_verify(check_text(token, "token")))

    def _register_verify(self, token: str) -> Plan[str]:
        call = plans.Call("GET", ("users", "register", "verify-email"), params={"token": token},
                          authenticate=False, follow_redirects=False)
        refusal: UnexpectedRedirect | None = None
        try:
            reply = yield call
        except UnexpectedRedirect as redirect:
            refusal = redirect
        if refusal is None:
            raise ServerError(reply.status_code, None, "register_verify: expected Directus to "
                              "redirect to the verified user's page, got an answer without "
                              "a redirect")
        location = str(refusal.extensions.get("location") or "")
        found = _VERIFIED_USER.search(location)
        if found is None:
            raise InvalidRequest(400, "INVALID_PAYLOAD", "register_verify: Directus refused "
                                 "the token (it is not a verification token)",
                                 {"location": location}, refusal.response)
        return found.group(1)

    def generate_tfa(self, password: str | None = None) -> dict[str, str]:
        """Start two-factor setup with POST /users/me/tfa/generate: {secret, otpauth_url}.

        Users of the default (password) provider must give their password.
        """
        body = {} if password is None else {"password": check_text(password, "password")}
        return cast("dict[str, str]", self._run(plans.data("POST", "users", "me", "tfa",
                                                           "generate", json=body,
                                                           expect=plans.OBJECT)))

    def enable_tfa(self, secret: str, otp: str) -> None:
        """Turn two-factor auth on with POST /users/me/tfa/enable (secret from generate_tfa)."""
        body = {"secret": check_text(secret, "secret"), "otp": check_text(otp, "otp")}
        return self._run(discard(plans.data("POST", "users", "me", "tfa", "enable", json=body,
                                            expect=plans.NOTHING)))

    def disable_tfa(self, otp: str | None = None, *, user: str | None = None) -> None:
        """Turn two-factor auth off: yours with POST /users/me/tfa/disable {otp}, or (admin)
        another user's with POST /users/{user}/tfa/disable."""
        if user is not None:
            if otp is not None:
                raise UsageError("otp: not needed to disable another user's 2FA (pass user=)")
            return self._run(discard(plans.data("POST", "users", check_uuid(user, "user"),
                                                "tfa", "disable", expect=plans.NOTHING)))
        body = {"otp": check_text(otp, "otp")}
        return self._run(discard(plans.data("POST", "users", "me", "tfa", "disable",
                                            json=body, expect=plans.NOTHING)))


class Roles(SystemCollection[Role]):
    """The /roles handle, with /roles/me."""

    NAME = "directus_roles"

    def me(self, *, fields: Sequence[str] | None = None) -> list[Role]:
        """Return the current user's roles (its role and the parents) from GET /roles/me."""
        return self._run(self._me(fields_params(fields)))

    def _me(self, params: dict[str, str] | None) -> Plan[list[Role]]:
        roles = yield from plans.data("GET", "roles", "me", params=params,
                                      expect=plans.OBJECTS)
        return cast("list[Role]", roles)


class Policies(SystemCollection[Policy]):
    """The /policies handle, with /policies/me/globals."""

    NAME = "directus_policies"

    def me_globals(self) -> dict[str, bool]:
        """Return the current user's app_access, admin_access and enforce_tfa from
        GET /policies/me/globals."""
        return cast("dict[str, bool]", self._run(plans.data("GET", "policies", "me",
                                                            "globals", expect=plans.OBJECT)))


class Permissions(SystemCollection[PermissionRecord]):
    """The /permissions handle, with what the current user may do (/permissions/me).

    Reads return stored rows only: for a token with app access Directus 12 appends the
    app's built-in minimal permissions (``"system": true``, no id) to every page, which
    would repeat on each page and break paging; and it drops aggregates, so count() counts
    the keys instead.
    """

    NAME = "directus_permissions"

    def __init__(self, transport: Any, schema: SchemaCache, *,
                 page_size: int = DEFAULT_PAGE_SIZE) -> None:
        super().__init__(transport, schema, page_size=page_size,
                         rules=ReadRules(drop_system_rows=True, count_by_keys=True))

    def me(self) -> dict[str, dict[str, Any]]:
        """Return collection -> action -> {access, fields, ...} from GET /permissions/me."""
        return cast("dict[str, dict[str, Any]]", self._run(plans.data(
            "GET", "permissions", "me", expect=_RIGHTS)))

    def item(self, collection: str, pk: str | int | None = None) -> dict[str, Any]:
        """Return what the current user may do to one item (or a singleton) from
        GET /permissions/me/{collection}/{pk}: {update: {access, presets, fields}, ...}."""
        segments: list[str | int] = ["permissions", "me", check_name(collection)]
        if pk is not None:
            segments.append(check_key(pk))
        return cast("dict[str, Any]", self._run(plans.data("GET", *segments,
                                                           expect=plans.OBJECT)))
