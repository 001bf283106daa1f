"""The lean request path: build each request from a per-client template, send it by the adapter.

``requests.Session.request`` spends most of a small call's client CPU on work this client
never needs per call: merging session settings, re-quoting a URL it built itself, reading
the environment (proxies, CA bundle, netrc), cookie jars, hooks and redirect machinery.
``LeanSender`` keeps requests as the transport (the session's mounted adapter, its
connection pools, TLS verification, proxies) and does the rest once:

- proxies, CA bundle, client certificate and netrc credentials are resolved once per
  client (and once per host a redirect leads to);
- the URL prefix is prepared by requests once; paths are already percent-encoded
  segments, and the query string is encoded once, as requests encodes it (spaces as
  ``+``, every reserved character as ``%XX``), a form urllib3 sends unchanged;
- no cookie jar (neither sent nor filled), no hooks, no redirect resolution: redirects
  are the transport's own rule.

A session that relies on what is skipped (cookies, hooks, its own ``auth`` or ``params``,
a subclass overriding how requests are prepared or sent) goes through the full
``Session.prepare_request`` / ``Session.send`` path instead, checked on every call, so
the bytes on the wire are the same either way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, MutableMapping
from typing import Any, Final
from urllib.parse import urlsplit

import requests
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, get_auth_from_url, get_netrc_auth, select_proxy

from . import direct
from .core.query_string import encode_query

__all__ = ["LeanSender", "encode_query"]

Auth = Callable[[requests.PreparedRequest], requests.PreparedRequest]
Settings = tuple[MutableMapping[str, str], Any, Any]

_SESSION_PREPARE: Final = requests.Session.prepare_request
_SESSION_SEND: Final = requests.Session.send
_SESSION_REQUEST: Final = requests.Session.request


#: how many checked header lines are remembered (per-call values could grow it forever)
_VALID_HEADERS_KEPT: Final = 256


class LeanSender:
    """Prepare and send requests for one base URL over a session, lean when the session allows."""

    def __init__(self, session: requests.Session, base_url: str, verify: bool | str | None,
                 agent_headers: Mapping[str, str], *, lean: bool = True) -> None:
        self.session = session
        # False: every request goes through Session.prepare_request and adapter.send.
        self.lean_enabled = lean
        self._agent = dict(agent_headers)
        self._verify_arg = verify
        # requests normalises the base (IDNA host, re-quoting) once, not per call.
        probe = requests.PreparedRequest()
        probe.prepare_url(base_url + "/", None)
        self.prefix = (probe.url or "").removesuffix("/")
        self._settings: dict[tuple[str, str], Settings] = {}
        self._pools = direct.Pools()
        # Header lines checked once (the session's own, Content-Type...), not on every call.
        self._valid_headers: set[tuple[Any, Any]] = set()
        self._proxy_used: dict[tuple[str, str, tuple[tuple[str, str], ...]], bool] = {}
        self.verify, self.cert, self.proxies = self._resolve(base_url)
        # What requests would authenticate with when the client has no auth strategy:
        # user:password in the URL, else ~/.netrc (when the session trusts the environment).
        url_auth = get_auth_from_url(self.prefix)
        self._fallback: Any = url_auth if any(url_auth) else (
            get_netrc_auth(self.prefix) if session.trust_env else None)

    def _resolve(self, url: str) -> tuple[Any, Any, MutableMapping[str, str]]:
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower())
        found = self._settings.get(key)
        if found is None:
            # Session.request reads these from os.environ on every call: once per host here.
            merged = self.session.merge_environment_settings(url, {}, None, self._verify_arg,
                                                             None)
            found = (merged["proxies"], merged["verify"], merged["cert"])
            self._settings[key] = found
        return found[1], found[2], found[0]

    def _proxied(self, url: str, proxies: Mapping[str, str]) -> bool:
        # Whether a proxy applies to this URL's host: the answer is the same for every
        # call to a host with the same proxies, so it is worked out once.
        if not proxies:
            return False
        parts = urlsplit(url)
        key = (parts.scheme.lower(), parts.netloc.lower(), tuple(sorted(proxies.items())))
        found = self._proxy_used.get(key)
        if found is None:
            found = self._proxy_used[key] = select_proxy(url, dict(proxies)) is not None
        return found

    def proxies_for(self, url: str) -> MutableMapping[str, str]:
        """Return the proxies for a URL (resolved once per scheme and host)."""
        return self._resolve(url)[2]

    def lean(self) -> bool:
        """Return whether the session relies on nothing the lean path skips (checked per call)."""
        if not self.lean_enabled:
            return False
        session = self.session
        kind = type(session)
        return (kind.prepare_request is _SESSION_PREPARE and kind.send is _SESSION_SEND
                and kind.request is _SESSION_REQUEST and session.auth is None
                and not session.params and not any(session.hooks.values())
                and not session.cookies)

    def prepare(self, method: str, url: str, *, params: Mapping[str, Any] | None, data: Any,
                files: Any, headers: Mapping[str, str], auth: Auth | None,
                authenticate: bool, prepared_url: bool) -> requests.PreparedRequest:
        """Return the request to send; ``prepared_url``: url is prefix + an encoded path."""
        if not self.lean():
            request = requests.Request(method, url, params=params, data=data, files=files,
                                       headers=headers, auth=auth)
            full = self.session.prepare_request(request)
            if not authenticate:
                full.headers.pop("Authorization", None)
            return full
        prepared = requests.PreparedRequest()
        prepared.method = method
        if prepared_url:
            query = encode_query(params) if params else ""
            prepared.url = f"{url}?{query}" if query else url
        else:  # a redirect's Location: whatever the server wrote, normalised by requests
            prepared.prepare_url(url, params)
        merged: CaseInsensitiveDict[Any] = CaseInsensitiveDict()
        # The order Session.prepare_request gives: the session's headers, then ours; a
        # header set to None is left out.
        for name, value in self.session.headers.items():
            merged[name] = value
        for name, value in headers.items():
            merged[name] = value
        for name, value in list(merged.items()):
            if value is None:
                del merged[name]
            elif name not in self._agent and not (
                    type(value) is str and (name, value) in self._valid_headers):
                check_header_validity((name, value))
                if type(name) is str and type(value) is str:
                    if len(self._valid_headers) >= _VALID_HEADERS_KEPT:
                        self._valid_headers.clear()
                    self._valid_headers.add((name, value))
        prepared.headers = merged
        prepared.prepare_body(data, files)
        chosen = auth if auth is not None else self._fallback
        if chosen is not None:
            prepared.prepare_auth(chosen)
        if not authenticate:
            prepared.headers.pop("Authorization", None)
        return prepared

    def send(self, prepared: requests.PreparedRequest, *, stream: bool, timeout: Any,
             proxies: MutableMapping[str, str]) -> requests.Response:
        """Send a prepared request with the client's TLS settings; no redirects are followed."""
        if not self.lean():
            try:
                return self.session.send(prepared, timeout=timeout, stream=stream,
                                         allow_redirects=False, proxies=proxies,
                                         verify=self.verify, cert=self.cert)
            except ValueError as unparsed:
                # Session.send reads a redirect's Location even when not following it; one
                # that is no URL (http://[::1/x) raises a bare ValueError, the answer lost.
                if isinstance(unparsed, requests.RequestException):
                    raise
                raise requests.exceptions.InvalidURL(
                    "the server answered a redirect whose Location is not a URL") from None
        url = prepared.url or ""
        adapter = self.session.get_adapter(url)
        if direct.usable(adapter, prepared, stream, self._proxied(url, proxies)):
            return direct.send(adapter, self._pools, prepared, timeout=timeout,
                               verify=self.verify, cert=self.cert)
        response = adapter.send(prepared, stream=stream, timeout=timeout, verify=self.verify,
                                cert=self.cert, proxies=dict(proxies))
        if not stream:
            # As Session.send does: read the body now, so the connection goes back to the pool.
            response.content  # noqa: B018
        return response
