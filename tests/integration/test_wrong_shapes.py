"""A proxy rewriting Directus's successful answers into the wrong shape: always a ServerError.

Each family of calls (items: get, fetch, count, aggregate, create, create_many, update,
update_many, delete; singletons; system routes: users.me, files, flows, roles, ...) goes
through a FaultProxy whose ``rewrite`` fault forwards the request to the real Directus
(which does the work) and answers 200 with a body of another shape than the route's.
The call must raise ServerError naming the route and what was expected, on both faces
(``--directus-face=both``), never return a wrong-typed value or raise a TypeError.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from pydirectus import RetryPolicy, StaticToken
from pydirectus.errors import BatchWriteError, ServerError
from pydirectus.testing import DirectusServer
from tests.faults import Fault, FaultProxy

# Bodies no route answers: wrong scalars, lists of non-objects, nulls, objects for lists.
NUMBER, NUMBERS, NULLS = b'{"data": 42}', b'{"data": [1, 2]}', b'{"data": [null]}'
TEXT, NULL, OBJECT, EMPTY = b'{"data": "x"}', b'{"data": null}', b'{"data": {"id": 1}}', \
    b'{"data": []}'

BAD_COUNT = b'{"data": [{"count": "many"}]}'

#: family -> (method, path after the base URL, the call, the bodies that are wrong for it)
Call = Callable[[Any, str, Any], Any]
FAMILIES: dict[str, tuple[str, str, Call, tuple[bytes, ...]]] = {
    "items.get": ("GET", "/items/{c}/{k}", lambda c, name, key: c.collection(name, pk="id").get(
        key), (NUMBER, NUMBERS, TEXT, NULL)),
    "items.fetch": ("GET", "/items/{c}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).fetch(), (NUMBER, NUMBERS, NULLS, TEXT, NULL)),
    "items.count": ("GET", "/items/{c}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).count(), (NUMBER, NUMBERS, OBJECT, BAD_COUNT)),
    "items.aggregate": ("GET", "/items/{c}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).aggregate(count="*").fetch(), (NUMBER, NULLS, TEXT)),
    "items.create": ("POST", "/items/{c}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).create({"title": "new"}), (NUMBER, NUMBERS, TEXT)),
    "items.create_many": ("POST", "/items/{c}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).create_many([{"title": "a"}, {"title": "b"}]),
        (NUMBER, NULLS, OBJECT, TEXT)),
    "items.update": ("PATCH", "/items/{c}/{k}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).update(key, {"title": "changed"}), (NUMBER, NUMBERS)),
    "items.update_many": ("PATCH", "/items/{c}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).update_many([key], {"title": "changed"}),
        (NUMBER, NULLS, OBJECT)),
    "items.delete": ("DELETE", "/items/{c}/{k}", lambda c, name, key: c.collection(
        name, pk="id", singleton=False).delete(key), (NUMBER, OBJECT, EMPTY)),
    "items.read_items": ("GET", "/items/{c}", lambda c, name, key: c.read_items(name),
                         (NUMBER, NULLS)),
    "users.me": ("GET", "/users/me", lambda c, name, key: c.users.me(),
                 (NUMBER, NUMBERS, TEXT, NULL)),
    "users.fetch": ("GET", "/users", lambda c, name, key: c.users.limit(5).fetch(),
                    (NUMBER, NULLS)),
    "roles.me": ("GET", "/roles/me", lambda c, name, key: c.roles.me(), (NUMBER, OBJECT, NULLS)),
    "permissions.me": ("GET", "/permissions/me", lambda c, name, key: c.permissions.me(),
                       (NUMBER, NUMBERS)),
    "files.fetch": ("GET", "/files", lambda c, name, key: c.files.limit(5).fetch(),
                    (NUMBER, NULLS)),
    "files.upload": ("POST", "/files", lambda c, name, key: c.files.upload(
        b"bytes", filename=f"{name}.txt"), (NUMBER, NUMBERS, TEXT)),
    "flows.count": ("GET", "/flows", lambda c, name, key: c.flows.count(),
                    (NUMBER, OBJECT, BAD_COUNT)),
    "collections.all": ("GET", "/collections", lambda c, name, key: c.collections.all(),
                        (NUMBER, NULLS, b'{"data": [{"meta": null}]}')),
    "fields.all": ("GET", "/fields/{c}", lambda c, name, key: c.fields.all(name),
                   (NUMBER, OBJECT)),
    "server.info": ("GET", "/server/info", lambda c, name, key: c.server.info(),
                    (NUMBER, NUMBERS)),
    "utils.random_string": ("GET", "/utils/random/string",
                            lambda c, name, key: c.utils.random_string(8), (NUMBER, OBJECT)),
    "singleton.get": ("GET", "/items/{c}", lambda c, name, key: c.singleton(name).get(),
                      (NUMBER, NUMBERS, NULL)),
}
#: the families that run on a singleton collection
SINGLETONS = frozenset({"singleton.get"})


@pytest.fixture
def proxy(directus: DirectusServer) -> Iterator[FaultProxy]:
    with FaultProxy(directus.url, lifetime=120) as running:
        yield running


@pytest.mark.parametrize("family", FAMILIES)
def test_each_wrong_shape_is_a_server_error_naming_the_route(
    directus: DirectusServer, directus_client: Any, make_client: Callable[..., Any],
    make_collection: Callable[..., str], proxy: FaultProxy, family: str,
) -> None:
    method, route, call, bodies = FAMILIES[family]
    name = make_collection({"title": "string"}, singleton=family in SINGLETONS)
    client = make_client(proxy.url, auth=StaticToken(directus.admin_token),
                         retry=RetryPolicy(attempts=1))
    try:
        for body in bodies:
            # A fresh item each time: the write went through before its answer was rewritten.
            key = None if family in SINGLETONS else directus_client.collection(name).create(
                {"title": "first"})["id"]
            path = route.format(c=name, k=key)
            proxy.clear()
            proxy.add(Fault.rewrite(body, method=method, path=path, times=None))
            with pytest.raises((ServerError, BatchWriteError)) as caught:
                result = call(client, name, key)
                pytest.fail(f"{family} on {body!r} returned {result!r}")
            error = caught.value
            if isinstance(error, BatchWriteError):  # a batched write says what landed, and why
                assert isinstance(error.cause, ServerError), error.cause
                error = error.cause
            assert error.status == 200, (family, body)
            assert f"{method} {path}: expected" in str(error), str(error)
            assert "got" in str(error)
            assert [seen.fault for seen in proxy.seen].count("rewrite") == 1
    finally:
        if family == "files.upload":
            directus_client.files.filter(filename_download=f"{name}.txt").delete()


def test_a_rewrite_of_the_right_shape_is_answered_as_usual(
    directus: DirectusServer, directus_client: Any, make_client: Callable[..., Any],
    make_collection: Callable[..., str], proxy: FaultProxy,
) -> None:
    # The check is of shapes, not of values: a proxy's body of the right shape is the answer.
    name = make_collection({"title": "string"})
    key = directus_client.collection(name).create({"title": "first"})["id"]
    client = make_client(proxy.url, auth=StaticToken(directus.admin_token))
    proxy.add(Fault.rewrite(b'{"data": [{"id": 7, "title": "rewritten"}]}', method="GET",
                            path=f"/items/{name}", times=1))
    assert client.collection(name, pk="id", singleton=False).fetch() == [
        {"id": 7, "title": "rewritten"}]
    proxy.add(Fault.rewrite(b'{"data": [{"count": "3"}]}', method="GET",
                            path=f"/items/{name}", times=1))
    assert client.collection(name, pk="id", singleton=False).count() == 3
    assert client.collection(name, pk="id").get(key)["title"] == "first"
