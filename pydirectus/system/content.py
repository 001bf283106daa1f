"""Versions, shares and flows: the handles and their extra routes (save, promote, trigger, ...)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs

from ..auth import ShareLogin
from ..checks import (
    check_data,
    check_email,
    check_keys,
    check_name,
    check_params,
    check_uuid,
    fields_params,
)
from ..core import plans
from ..core.plans import Call, Plan
from ..errors import NotFound, PermissionDenied, UsageError
from ..models import Flow, Share, Version
from .handles import SystemCollection, discard

__all__ = ["Flows", "Shares", "Versions"]

R = TypeVar("R")

#: promote answers the item's key (null when Directus has none to give)
_KEY_OR_NOTHING = attrs.evolve(plans.KEY, description="the item's key or nothing", empty=True)
#: GET /flows/{id}?fields=trigger,options: how the flow is triggered
_FLOW_TRIGGER = plans.Shape(
    "an object with the flow's trigger and options",
    lambda value: isinstance(value, dict) and isinstance(value.get("options") or {}, dict))
#: what the item of a version is looked up by
_VERSION_REF = plans.Shape(
    "an object with the version's collection (a name), item and key",
    lambda value: isinstance(value, dict) and isinstance(value.get("collection"), str)
    and bool(value["collection"]) and plans.KEY.accepts(value.get("item"))
    and isinstance(value.get("key"), str))


class Versions(SystemCollection[Version]):
    """The /versions handle (content versions of items), with save, compare and promote."""

    NAME = "directus_versions"

    def _version(self, key: str, plan: Plan[R]) -> Plan[R]:
        # Run a plan on version `key`; Directus says FORBIDDEN for a version that does not
        # exist: NotFound then (when the token may tell).
        denied: PermissionDenied | None = None
        try:
            return (yield from plan)
        except PermissionDenied as refusal:
            denied = refusal
        error = yield from self._path.missing_or_denied(key, denied, False)
        if isinstance(error, NotFound):
            raise NotFound(404, error.code, f"id: no version {key!r}",
                           {"version": key}, denied.response) from None
        raise error from None

    def save(self, id: str, delta: Mapping[str, Any]) -> dict[str, Any]:
        """Add changes to a version with POST /versions/{id}/save; return the item as the
        version now has it (main item with the version's delta applied)."""
        body = dict(check_data(delta, "delta"))
        key = check_uuid(id, "id")
        return cast("dict[str, Any]", self._run(self._version(key, plans.data(
            "POST", "versions", key, "save", json=body, expect=plans.OBJECT))))

    def compare(self, id: str) -> dict[str, Any]:
        """Return {outdated, mainHash, current, main} from GET /versions/{id}/compare."""
        key = check_uuid(id, "id")
        return cast("dict[str, Any]", self._run(self._version(key, plans.data(
            "GET", "versions", key, "compare", expect=plans.OBJECT))))

    def promote(self, id: str, main_hash: str, fields: Sequence[str] | None = None) -> Any:
        """Apply a version (all its fields, or `fields`) to the main item with
        POST /versions/{id}/promote; `main_hash` is compare()'s mainHash. Return the item key."""
        if not isinstance(main_hash, str) or not main_hash:
            raise UsageError(f"main_hash: expected compare(id)['mainHash'], got {main_hash!r}")
        body: dict[str, Any] = {"mainHash": main_hash}
        if fields is not None:
            names = [] if isinstance(fields, str | Mapping) or not isinstance(
                fields, Iterable) else list(fields)
            if not names or not all(isinstance(f, str) and f for f in names):
                raise UsageError(f"fields: expected a list of field names, got {fields!r:.80}")
            body["fields"] = names
        key = check_uuid(id, "id")
        return self._run(self._version(key, plans.data("POST", "versions", key, "promote",
                                                       json=body, expect=_KEY_OR_NOTHING)))

    def item(self, id: str, *, fields: Sequence[str] | None = None) -> dict[str, Any]:
        """Return the item as a version has it: GET /versions/{id} for its collection, item and
        key, then GET /items/{collection}/{item}?version={key}."""
        key = check_uuid(id, "id")
        return self._run(self._item(key, fields_params(fields)))

    def _item(self, key: str, params: dict[str, str] | None) -> Plan[dict[str, Any]]:
        version = yield from self._version(key, plans.data(
            "GET", "versions", key, params={"fields": "collection,item,key"},
            expect=_VERSION_REF))
        item = yield from plans.data("GET", "items", version["collection"], version["item"],
                                     params={"version": version["key"], **(params or {})},
                                     expect=plans.OBJECT)
        return cast("dict[str, Any]", item)


class Shares(SystemCollection[Share]):
    """The /shares handle, with the public share info, share login and invitations."""

    NAME = "directus_shares"

    def authenticate(self, share: str, password: str | None = None) -> ShareLogin:
        """Log in to a share with POST /shares/auth; return a ``ShareLogin`` holding
        its share-scoped tokens, to pass as ``DirectusClient(url, auth=...)``.

        Each login counts as one use of the share (``max_uses``). A wrong password, or a
        share that has expired, is used up or does not exist, raises AuthenticationError
        (INVALID_CREDENTIALS: Directus does not say which).
        """
        strategy = ShareLogin(check_uuid(share, "share"), password)
        body: dict[str, Any] = {"share": share, "mode": "json"}
        if password is not None:
            body["password"] = password
        return self._run(self._authenticate(strategy, body))

    def _authenticate(self, strategy: ShareLogin, body: dict[str, Any]) -> Plan[ShareLogin]:
        # The client's own token stays home: the share's tokens are a login of their own.
        answer = yield from plans.data("POST", "shares", "auth", json=body, authenticate=False,
                                       expect=plans.OBJECT)
        strategy.adopt(answer)
        return strategy

    def invite(self, share: str, emails: str | Sequence[str]) -> None:
        """Email a link to a share to each address with POST /shares/invite.

        Needs a token of a user (Public and user-less tokens are refused) who may read the
        share, and the server's email settings: Directus answers before the mail is sent
        and only logs a failed delivery.
        """
        key = check_uuid(share, "share")
        if isinstance(emails, str):
            addresses = [check_email(emails, "emails")]
        elif isinstance(emails, Sequence) and emails:
            addresses = [check_email(e, f"emails[{i}]") for i, e in enumerate(emails)]
        else:
            raise UsageError(f"emails: expected an address or a non-empty list of them, "
                             f"got {emails!r}")
        return self._run(discard(plans.data("POST", "shares", "invite",
                                            json={"share": key, "emails": addresses},
                                            expect=plans.NOTHING)))

    def info(self, id: str) -> Share:
        """Return a live share's public facts (collection, item, limits) from
        GET /shares/info/{id}; needs no permissions."""
        return self._run(self._info(check_uuid(id, "id")))

    def _info(self, key: str) -> Plan[Share]:
        denied: PermissionDenied | None = None
        try:
            share = yield from plans.data("GET", "shares", "info", key, expect=plans.OBJECT)
        except PermissionDenied as refusal:
            denied = refusal
        if denied is None:
            return cast("Share", share)
        # Expired, used up or missing: Directus does not say which.
        raise PermissionDenied(denied.status, denied.code,
                               f"share {key!r} does not exist, has expired or is used up",
                               {**denied.extensions, "share": key}, denied.response) from None


class Flows(SystemCollection[Flow]):
    """The /flows handle, with trigger() for webhook and manual flows."""

    NAME = "directus_flows"

    def trigger(self, flow_id: str, data: Mapping[str, Any] | None = None, *,
                method: str | None = None, params: Mapping[str, Any] | None = None,
                collection: str | None = None, keys: Sequence[str | int] | None = None) -> Any:
        """Run a webhook or manual flow with GET or POST /flows/trigger/{flow_id}; return what
        the flow returns (None for an async flow).

        The method is the flow's own (read from GET /flows/{flow_id}) unless given; a token
        that may not read flows sends POST when there is a body, else GET. A manual flow
        takes the `collection` and `keys` it runs on.
        """
        key = check_uuid(flow_id, "flow_id")
        body = dict(check_data(data, "data")) if data is not None else None
        if collection is not None or keys is not None:
            body = {**(body or {}), "collection": check_name(collection, "collection")}
            if keys is not None:
                body["keys"] = check_keys(keys)
        if method is not None and (not isinstance(method, str)
                                   or method.upper() not in ("GET", "POST")):
            raise UsageError(f"method: expected 'GET' or 'POST', got {method!r}")
        query = check_params(params) if params else None
        if method is not None:
            _check_verb(key, method.upper(), body)
        return self._run(self._trigger(key, method.upper() if method is not None else None,
                                       body, query))

    def _trigger(self, key: str, verb: str | None, body: dict[str, Any] | None,
                 query: dict[str, str] | None) -> Plan[Any]:
        if verb is None:
            verb = yield from self._method_of(key, body)
            _check_verb(key, verb, body)
        # A flow run is not idempotent: never retried once it may have reached the server.
        call = Call(verb, ("flows", "trigger", key), params=query, json=body, idempotent=False)
        denied: PermissionDenied | None = None
        try:
            return (yield from plans.send_json(call))
        except PermissionDenied as refusal:
            if refusal.reason is not None:
                raise  # refused by the flow's own steps or permissions: Directus said why
            denied = refusal
        # A bare FORBIDDEN is also Directus's answer for no such active flow.
        raise PermissionDenied(
            denied.status, denied.code,
            f"flow_id: no active webhook or manual flow {key!r} answers {verb} (or this "
            f"token may not run it)", {**denied.extensions, "flow": key},
            denied.response) from None

    def _method_of(self, key: str, body: dict[str, Any] | None) -> Plan[str]:
        try:
            flow = yield from plans.data("GET", "flows", key,
                                         params={"fields": "trigger,options"},
                                         expect=_FLOW_TRIGGER)
        except PermissionDenied:
            return "POST" if body is not None else "GET"
        if not flow:
            return "POST" if body is not None else "GET"
        if flow.get("trigger") == "manual":
            return "POST"
        if flow.get("trigger") != "webhook":
            raise UsageError(f"flow_id: flow {key!r} has a {flow.get('trigger')!r} trigger; "
                             "only webhook and manual flows can be triggered")
        return str((flow.get("options") or {}).get("method") or "GET").upper()


def _check_verb(key: str, verb: str, body: dict[str, Any] | None) -> None:
    if verb == "GET" and body is not None:
        raise UsageError(f"data: flow {key!r} is triggered with GET, which takes no body; "
                         "pass params= instead")
