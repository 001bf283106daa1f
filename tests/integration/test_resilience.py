"""Retries, timeouts and error mapping against a real Directus behind a fault-injecting proxy."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from pydirectus import DirectusClient, RetryPolicy, StaticToken, __version__
from pydirectus.errors import (
    APIError,
    ConnectError,
    InvalidQuery,
    ServerError,
    Timeout,
    TLSError,
    TransportError,
)
from pydirectus.testing import DirectusServer
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
    assert elapsed < 2.0


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
    with pytest.raises(InvalidQuery):
        client.read_item(articles, bad)
    with pytest.raises(InvalidQuery):
        client.delete_item(articles, bad)
    # The id never travels (a schema lookup of the collection may).
    assert not proxy.requests_to(f"/items/{articles}/")


def test_user_agent_names_pydirectus(
    proxy: FaultProxy, client_for: Callable[..., DirectusClient], articles: str
) -> None:
    client_for(proxy.url).read_items(articles)
    (seen,) = proxy.seen
    assert seen.headers["User-Agent"].startswith(f"pydirectus/{__version__} ")
