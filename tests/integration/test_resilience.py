"""Retries, timeouts and error mapping against a real Directus behind a fault-injecting proxy."""

from __future__ import annotations

import email.utils
import io
import os
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pydirectus import DirectusAuth, DirectusClient, Password, RetryPolicy, StaticToken, __version__
from pydirectus.errors import (
    CODE_TO_ERROR,
    APIError,
    ConnectError,
    DirectusError,
    NotReplayable,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
    UnexpectedRedirect,
    UsageError,
    error_class_for,
)
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import ACTIONS, AccessGrants
from pydirectus.testing.install import ensure_installed
from pydirectus.transport import Call
from tests.faults import Fault, FaultProxy, closed_port

FAST = RetryPolicy(attempts=5, backoff=0.01, max_backoff=0.05, total=10.0)
HTML_502 = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"


@pytest.fixture
def proxy(directus: DirectusServer) -> Iterator[FaultProxy]:
    with FaultProxy(directus.url, lifetime=60) as running:
        yield running


@pytest.fixture
def client_for(directus: DirectusServer) -> Iterator[Callable[..., DirectusClient]]:
    """Return a factory of admin clients; every client made is closed after the test."""
    made: list[DirectusClient] = []

    def make(url: str, **options: Any) -> DirectusClient:
        options.setdefault("timeout", (1.0, 5.0))
        options.setdefault("retry", FAST)
        client = DirectusClient(url, auth=StaticToken(directus.admin_token), **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def articles(make_collection: Callable[..., str]) -> str:
    return make_collection({"title": "string"})


def count_items(directus: DirectusServer, collection: str) -> int:
    response = requests.get(
        f"{directus.url}/items/{collection}", params={"aggregate[count]": "*"}, timeout=10,
        headers={"Authorization": f"Bearer {directus.admin_token}"})
    response.raise_for_status()
    return int(response.json()["data"][0]["count"])


def test_reads_survive_resets_and_gateway_errors(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str
) -> None:
    path = f"/items/{articles}"
    proxy.add(
        Fault.reset(path=path),
        Fault.status(502, HTML_502, {"Content-Type": "text/html"}, path=path),
        Fault.status(503, headers={"Retry-After": "0"}, path=path),
        Fault.status(504, path=path),
    )
    client = client_for(proxy.url)
    assert client.read_items(articles) == []
    assert [s.fault for s in proxy.requests_to(path)] == [
        "reset", "status", "status", "status", None]


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str, status: int
) -> None:
    path = f"/items/{articles}"
    proxy.add(Fault.status(status, b'{"errors":[]}', {"Retry-After": "1"}, path=path))
    client = client_for(proxy.url)
    started = time.monotonic()
    assert client.read_items(articles) == []
    elapsed = time.monotonic() - started
    first, second = proxy.requests_to(path)
    # backoff=0.01 would retry at once; the 1 s gap is Retry-After's.
    assert 0.9 <= second.at - first.at < 3.0
    assert elapsed < 4.0


def test_retries_are_bounded_by_attempts(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str
) -> None:
    path = f"/items/{articles}"
    proxy.add(Fault.status(502, HTML_502, {"Content-Type": "text/html"}, path=path, times=None))
    client = client_for(proxy.url, retry=RetryPolicy(attempts=3, backoff=0.01))
    with pytest.raises(ServerError) as caught:
        client.read_items(articles)
    assert len(proxy.requests_to(path)) == 3
    error = caught.value
    assert error.status == 502 and error.code is None
    assert "502 Bad Gateway" in str(error)  # an excerpt of the HTML body
    assert error.response is not None and error.response.status_code == 502


def test_retries_are_bounded_by_total_time(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str
) -> None:
    path = f"/items/{articles}"
    proxy.add(Fault.status(503, headers={"Retry-After": "0.4"}, path=path, times=None))
    client = client_for(proxy.url, retry=RetryPolicy(attempts=50, backoff=0.01, total=1.0))
    started = time.monotonic()
    with pytest.raises(ServerError) as caught:
        client.read_items(articles)
    elapsed = time.monotonic() - started
    assert caught.value.status == 503 and "empty response body" in str(caught.value)
    assert 2 <= len(proxy.requests_to(path)) <= 4  # 0, 0.4, 0.8; 1.2 would overrun
    # 50 attempts at 0.4 s would take 20 s; the budget stops them near 1 s. The margin
    # absorbs a loaded machine's slow requests, not extra retries (counted above).
    assert elapsed < 3.0


def test_a_post_that_reached_the_server_is_not_sent_again(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str,
    directus: DirectusServer,
) -> None:
    path = f"/items/{articles}"
    proxy.add(Fault.forward_then_reset(method="POST", path=path))
    client = client_for(proxy.url)
    with pytest.raises(TransportError) as caught:
        client.create_item(articles, {"title": "once"})
    assert isinstance(caught.value, ConnectError)
    assert isinstance(caught.value.__cause__, requests.RequestException)
    assert len(proxy.requests_to(path, "POST")) == 1
    assert count_items(directus, articles) == 1


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_writes_are_not_retried_on_gateway_errors(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str,
    directus_client: DirectusClient, method: str,
) -> None:
    item = directus_client.create_item(articles, {"title": "a"})
    path = f"/items/{articles}"
    proxy.add(Fault.status(503, headers={"Retry-After": "0"}, method=method, path=path))
    client = client_for(proxy.url)
    with pytest.raises(ServerError):
        if method == "POST":
            client.create_item(articles, {"title": "b"})
        else:
            client.update_item(articles, item["id"], {"title": "b"})
    assert len(proxy.requests_to(path, method)) == 1


def test_delete_of_one_id_is_retried(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str,
    directus_client: DirectusClient, directus: DirectusServer,
) -> None:
    item = directus_client.create_item(articles, {"title": "gone"})
    path = f"/items/{articles}/{item['id']}"
    proxy.add(Fault.reset(method="DELETE", path=path))
    client_for(proxy.url).delete_item(articles, item["id"])
    assert [s.fault for s in proxy.requests_to(path, "DELETE")] == ["reset", None]
    assert count_items(directus, articles) == 0


@pytest.mark.parametrize("stall", [Fault.stall, Fault.stall_body],
                         ids=["before-headers", "mid-body"])
def test_a_stalled_read_times_out(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str,
    stall: Callable[..., Fault],
) -> None:
    path = f"/items/{articles}"
    proxy.add(stall(10, path=path))
    client = client_for(proxy.url, timeout=(1.0, 1.0), retry=RetryPolicy(attempts=3, backoff=0.01))
    started = time.monotonic()
    with pytest.raises(Timeout) as caught:
        client.read_items(articles)
    elapsed = time.monotonic() - started
    assert isinstance(caught.value, TransportError)
    assert isinstance(caught.value.__cause__, requests.RequestException)
    assert 0.9 <= elapsed < 3.0
    # A read that timed out may be running on the server: not re-sent.
    assert len(proxy.requests_to(path)) == 1


def test_connection_refused_is_a_connect_error(client_for: Callable[..., DirectusClient]) -> None:
    client = client_for(f"http://127.0.0.1:{closed_port()}",
                        retry=RetryPolicy(attempts=2, backoff=0.01))
    with pytest.raises(ConnectError) as caught:
        client.read_items("articles")
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    assert "GET /items/articles" in str(caught.value)


def test_tls_to_a_plain_http_port_is_a_tls_error(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient]
) -> None:
    client = client_for(f"https://127.0.0.1:{proxy.port}", retry=RetryPolicy(attempts=1))
    with pytest.raises(TLSError) as caught:
        client.read_items("articles")
    assert isinstance(caught.value.__cause__, requests.exceptions.SSLError)


def test_path_segments_cannot_climb_to_another_route(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str,
    directus: DirectusServer,
) -> None:
    client = client_for(proxy.url)
    with pytest.raises(APIError) as caught:
        client.read_item(articles, "../../users/me")
    expected = f"/items/{articles}/..%2F..%2Fusers%2Fme"
    # Directus says FORBIDDEN for a missing item; the client then checks the collection.
    assert [s.path for s in proxy.seen][:1] == [expected]
    assert not [s for s in proxy.seen if s.path.startswith("/users")]
    assert caught.value.response is not None
    assert caught.value.response.request.path_url == expected
    assert directus.admin_email not in caught.value.response.text


def test_int_ids_and_odd_string_ids_are_sent_as_one_segment(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient],
    make_collection: Callable[..., str], directus_client: DirectusClient,
) -> None:
    numbered = make_collection({"title": "string"})
    named = make_collection({"title": "string"}, pk="string")
    item = directus_client.create_item(numbered, {"title": "int"})
    directus_client.create_item(named, {"id": "a/b?c#d %e", "title": "odd"})
    client = client_for(proxy.url)
    assert client.read_item(numbered, int(item["id"]))["title"] == "int"
    assert client.read_item(named, "a/b?c#d %e")["title"] == "odd"
    assert [s.path for s in proxy.seen] == [
        f"/items/{numbered}/{item['id']}", f"/items/{named}/a%2Fb%3Fc%23d%20%25e"]


@pytest.mark.parametrize("bad", [".", "..", ""])
def test_dot_segments_and_empty_ids_are_refused_before_sending(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str, bad: str
) -> None:
    client = client_for(proxy.url)
    with pytest.raises(UsageError):
        client.read_item(articles, bad)
    with pytest.raises(UsageError):
        client.delete_item(articles, bad)
    # The id never travels (a schema lookup of the collection may).
    assert not proxy.requests_to(f"/items/{articles}/")


def test_user_agent_names_pydirectus(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str
) -> None:
    client_for(proxy.url).read_items(articles)
    (seen,) = proxy.seen
    assert seen.headers["User-Agent"].startswith(f"pydirectus/{__version__} ")


@pytest.fixture
def api_user(directus_client: DirectusClient, articles: str) -> Iterator[DirectusAuth]:
    """Return the auth of an API-only user (no app access) with CRUD on `articles`.

    It may read the schema too (/collections, /fields), as handles look up primary keys.
    """
    grants = AccessGrants(directus_client)
    try:
        client = grants.api_client({articles: ACTIONS, "directus_collections": ("read",),
                                    "directus_fields": ("read",)})
        assert client.auth is not None
        yield client.auth
    finally:
        grants.revoke()


# Redirects: a write answered with a redirect changes nothing and says where it pointed.

WRITE_OPS: dict[str, tuple[str, Callable[[DirectusClient, str, int], Any]]] = {
    "create": ("POST", lambda c, name, pk: c.collection(name).create({"title": "new"})),
    "create_many": ("POST", lambda c, name, pk: c.collection(name).create_many(
        [{"title": "n1"}, {"title": "n2"}])),
    "update": ("PATCH", lambda c, name, pk: c.collection(name).update(pk, {"title": "changed"})),
    "delete": ("DELETE", lambda c, name, pk: c.collection(name).delete(pk)),
    "delete_many": ("DELETE", lambda c, name, pk: c.collection(name).delete_many([pk])),
}


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("op", WRITE_OPS)
def test_writes_answered_with_a_redirect_change_nothing(
    proxy: FaultProxy, api_user: DirectusAuth, articles: str,
    directus_client: DirectusClient, status: int, op: str,
) -> None:
    name = articles
    item = directus_client.collection(name).create({"title": "kept"})
    client = DirectusClient(proxy.url, auth=api_user, retry=FAST)  # the API-only user's token
    method, action = WRITE_OPS[op]
    path = f"/items/{name}"
    target = f"https://127.0.0.1:{proxy.port}{path}"
    proxy.add(Fault.redirect(status, target, method=method, path=path, times=None))
    with client, pytest.raises(DirectusError) as caught:
        action(client, name, item["id"])
    # Batched writes report their batches in a BatchWriteError caused by the redirect.
    error = caught.value if op not in ("create_many", "delete_many") else caught.value.__cause__
    assert isinstance(error, UnexpectedRedirect), repr(caught.value)
    assert error.status == status and error.location == target and target in str(error)
    assert "instead of http://" in str(error)
    # One write, not followed (a delete first reads whether its keys exist).
    assert [(s.method, s.fault) for s in proxy.requests_to(path) if s.method != "GET"] == [
        (method, "status")]
    assert directus_client.read_items(name) == [{"id": item["id"], "title": "kept"}]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_reads_follow_a_redirect_within_the_origin(
    proxy: FaultProxy, api_user: DirectusAuth, articles: str, directus_client: DirectusClient,
    status: int,
) -> None:
    name = articles
    directus_client.collection(name).create({"title": "found"})
    client = DirectusClient(proxy.url, auth=api_user, retry=FAST)
    proxy.add(Fault.redirect(status, f"/items/{name}?filter[title][_eq]=found",
                             method="GET", path=f"/items/{name}?"))
    with client:
        assert [row["title"] for row in client.read_items(name, {"limit": 5})] == ["found"]
    (redirected, followed) = proxy.requests_to(f"/items/{name}")
    assert redirected.fault == "status" and followed.fault is None
    assert followed.headers["Authorization"] == redirected.headers["Authorization"]


def test_a_read_redirected_to_another_origin_keeps_its_token_home(
    proxy: FaultProxy, api_user: DirectusAuth, articles: str, directus: DirectusServer,
) -> None:
    name = articles
    with FaultProxy(directus.url, lifetime=30) as elsewhere:
        proxy.add(Fault.redirect(302, f"{elsewhere.url}/items/{name}", path=f"/items/{name}"))
        client = DirectusClient(proxy.url, auth=api_user, retry=FAST)
        with client, pytest.raises(UnexpectedRedirect, match="another origin"):
            client.read_items(name)
        assert elsewhere.seen == []


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_login_redirect_never_takes_the_password_elsewhere(
    proxy: FaultProxy, directus: DirectusServer, articles: str, status: int,
) -> None:
    with FaultProxy(directus.url, lifetime=30) as elsewhere:
        proxy.add(Fault.redirect(status, f"{elsewhere.url}/auth/login", path="/auth/login"))
        auth = Password(directus.admin_email, directus.admin_password)
        with DirectusClient(proxy.url, auth=auth, retry=FAST) as client, pytest.raises(
                UnexpectedRedirect, match="auth call"):
            client.read_items(articles)
        assert elsewhere.seen == []
        assert [s.path for s in proxy.seen] == ["/auth/login"]


# Replays: a body goes again only when it can be sent whole.

EXPIRED = (b'{"errors":[{"message":"Token expired.",'
           b'"extensions":{"code":"TOKEN_EXPIRED"}}]}')


def multipart(content: bytes, filename: str) -> tuple[bytes, str]:
    boundary = "pydirectus-test-boundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def files_named(directus_client: DirectusClient, filename: str) -> list[dict[str, Any]]:
    return directus_client.read_files(
        {"filter": {"filename_download": {"_eq": filename}}, "fields": ["id", "filesize"]})


def test_an_upload_refused_for_an_expired_token_is_resent_whole(
    proxy: FaultProxy, directus: DirectusServer, directus_client: DirectusClient,
) -> None:
    content = os.urandom(300_000)
    filename = f"replay-{os.getpid()}-{time.monotonic_ns()}.bin"
    body, content_type = multipart(content, filename)
    auth = Password(directus.admin_email, directus.admin_password)
    with DirectusClient(proxy.url, auth=auth, retry=FAST) as client:
        client.server.info()  # logged in
        proxy.clear()
        proxy.add(Fault.status(401, EXPIRED, {"Content-Type": "application/json"},
                               method="POST", path="/files"))
        for data, name in ((body, "bytes"), (lambda: io.BytesIO(body), "factory")):
            call = Call("POST", ("files",), headers={"Content-Type": content_type},
                        **({"data": data} if name == "bytes" else {"body_factory": data}))
            record = client.transport.send_json(call)["data"]
            assert int(record["filesize"]) == len(content)
            proxy.add(Fault.status(401, EXPIRED, {"Content-Type": "application/json"},
                                   method="POST", path="/files"))
    posts = proxy.requests_to("/files", "POST")
    # Refused, re-sent, refused, re-sent: four whole bodies, none short or empty.
    assert [(s.fault, s.body_length) for s in posts] == [("status", len(body)),
                                                        (None, len(body))] * 2
    assert len(files_named(directus_client, filename)) == 2
    for row in files_named(directus_client, filename):
        directus_client.delete_file(row["id"])


@pytest.mark.parametrize("chunked", [False, True], ids=["sized-stream", "chunked-stream"])
def test_a_one_shot_upload_is_never_resent_short_or_empty(
    proxy: FaultProxy, directus: DirectusServer, directus_client: DirectusClient, chunked: bool,
) -> None:
    content = os.urandom(300_000)
    filename = f"oneshot-{os.getpid()}-{time.monotonic_ns()}.bin"
    body, content_type = multipart(content, filename)

    class Pipe:  # readable once, no seek: a socket or a pipe
        def __init__(self) -> None:
            self._left = io.BytesIO(body)

        def read(self, size: int = -1) -> bytes:
            return self._left.read(size)

        def __len__(self) -> int:
            return len(body)

    pipe = Pipe()
    # A generator goes out chunked; a sized stream with Content-Length.
    stream: Any = iter(lambda: pipe.read(65536), b"") if chunked else pipe
    auth = Password(directus.admin_email, directus.admin_password)
    with DirectusClient(proxy.url, auth=auth, retry=FAST) as client:
        client.server.info()
        proxy.clear()
        proxy.add(Fault.status(401, EXPIRED, {"Content-Type": "application/json"},
                               method="POST", path="/files"))
        call = Call("POST", ("files",), data=stream, headers={"Content-Type": content_type})
        with pytest.raises(NotReplayable, match="one-shot stream"):
            client.transport.send(call)
        assert [s.body_length for s in proxy.requests_to("/files", "POST")] == [len(body)]
        assert client.server.info()  # the token was renewed for what comes next
    assert files_named(directus_client, filename) == []


# Odd replies: the wrong shape at 2xx, Retry-After as an HTTP-date.

SHAPES = [b"{}", b'{"data": null}', b"null", b"42", b""]
ROUTED_READS: dict[str, tuple[str, Callable[[DirectusClient, str], Any]]] = {
    "read_items": ("/items/{name}", lambda c, name: c.read_items(name)),
    "read_item": ("/items/{name}/1", lambda c, name: c.read_item(name, 1)),
    "get": ("/items/{name}/1", lambda c, name: c.collection(name).get(1)),
    "read_files": ("/files", lambda c, name: c.read_files()),
    "read_file": ("/files/f", lambda c, name: c.read_file("f")),
    "server.info": ("/server/info", lambda c, name: c.server.info()),
}


@pytest.mark.parametrize("body", SHAPES, ids=["empty-object", "null-data", "null", "42", "empty"])
@pytest.mark.parametrize("read", ROUTED_READS)
def test_a_2xx_body_of_the_wrong_shape_is_a_server_error(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str,
    body: bytes, read: str,
) -> None:
    route, action = ROUTED_READS[read]
    path = route.format(name=articles)
    proxy.add(Fault.status(200, body, {"Content-Type": "application/json"}, method="GET",
                           path=path, times=None))
    client = client_for(proxy.url)
    with pytest.raises(ServerError) as caught:
        action(client, articles)
    assert f"GET {path}: expected" in str(caught.value)
    assert caught.value.status == 200


@pytest.mark.parametrize("header", ["date", "nan", "-1", "inf"])
def test_retry_after_forms_on_the_wire(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str, header: str,
) -> None:
    value = email.utils.formatdate(time.time() + 2, usegmt=True) if header == "date" else header
    path = f"/items/{articles}"
    proxy.add(Fault.status(503, b"", {"Retry-After": value}, path=path))
    client = client_for(proxy.url)
    assert client.read_items(articles) == []
    first, second = proxy.requests_to(path)
    gap = second.at - first.at
    if header == "date":  # whole seconds on the wire: between 1 and 2 s from now
        assert 0.5 <= gap < 3.0
    else:  # ignored: the policy's own short backoff
        assert gap < 0.5


def test_the_error_table_knows_every_directus_code() -> None:
    source = (ensure_installed() / "node_modules" / "@directus" / "errors" / "dist"
              / "index.js").read_text()
    names = dict(re.findall(r'ErrorCode\$1\["(\w+)"\] = "([A-Z_]+)"', source))
    created = re.findall(r"createError\(ErrorCode\.(\w+), [^\n]*?(?:, (\d{3}))?\);", source)
    assert len(names) > 40 and len(created) > 40
    for member, status in created:
        code = names[member]
        assert code in CODE_TO_ERROR, f"{code} ({status or 500}) is not in the error table"
        expected = error_class_for(int(status or 500), None)
        mapped = CODE_TO_ERROR[code]
        # The code may say more than the status (LIMIT_EXCEEDED is a 403 quota, not 429).
        assert issubclass(mapped, APIError)
        if expected is not mapped:
            assert (code, int(status or 500)) in DELIBERATE, (code, status, mapped, expected)


# Where the table departs from the status on purpose.
DELIBERATE = {
    ("INVALID_TOKEN", 403), ("INVALID_PROVIDER", 403), ("INVALID_IP", 401),
    ("ADDON_NOT_FOUND", 404), ("OUT_OF_TIME", 408), ("EMAIL_LIMIT_EXCEEDED", 429),
}
