"""Code written for pydirectus 0.2 runs unchanged against a real Directus, as admin and as an
API-only user: its README and tests.py (tests/seed/readme.py), its positional constructor,
``logger=``, ``ssl_verify`` and ``pydirectus.exceptions``; and the seed's TypedDicts match
what Directus 12 sends and accepts.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import logging
import secrets
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import attrs
import pytest
import urllib3

from pydirectus import DirectusClient, Password, Query, StaticToken
from pydirectus.errors import (
    AuthenticationError,
    DirectusError,
    NotFound,
    PermissionDenied,
    ServerError,
    TLSError,
)
from pydirectus.models import Activity, DeepQuery, File, Folder
from pydirectus.models import Query as QueryDict
from pydirectus.testing import CollectionFactory, DirectusServer
from pydirectus.testing.access import AccessGrants
from tests.recording import LogRecords
from tests.seed import readme

AUTHORS = ["Beff Jezos", "Ann Lee", "Beff Jezos", "Sam Ito"] * 3  # 12 articles: limit 10 shows
SCENES = 12


@attrs.frozen
class Account:
    """Who runs the seed's code: the admin, or a role-less user on an API-only policy."""

    label: str
    email: str
    password: str = attrs.field(repr=False)
    token: str = attrs.field(repr=False)


def _create_seed_collections(admin: DirectusClient) -> list[str]:
    def create(name: str, fields: dict[str, str]) -> str:
        admin.transport.data("POST", "collections", json={
            "collection": name, "schema": {}, "meta": {},
            "fields": [
                {"field": "id", "type": "integer", "meta": {"hidden": True},
                 "schema": {"is_primary_key": True, "has_auto_increment": True}},
                *({"field": f, "type": t, "schema": {}, "meta": {}} for f, t in fields.items()),
            ]})
        return name

    # The seed's README and tests.py name these collections literally.
    names = [create("articles", {"title": "string", "author": "string", "views": "integer"}),
             create("your_collection", {"field1": "string", "field2": "string"}),
             create("scenes", {"index": "integer", "footage_in": "string",
                               "footage_out": "string", "note": "string"})]
    admin.transport.data("POST", "items", "articles", json=[
        {"title": f"Article {n}", "author": author, "views": 10 * n}
        for n, author in enumerate(AUTHORS)] + [
        {"id": 53356, "title": "The one the README reads", "author": "Ann Lee", "views": 1}])
    admin.transport.data("POST", "items", "scenes", json=[
        {"index": n, "footage_in": f"00:0{n % 10}:00", "footage_out": f"00:0{n % 10}:30",
         "note": "not asked for"} for n in range(SCENES)])
    return names


@pytest.fixture(scope="module")
def seed_collections(directus_client: DirectusClient) -> Iterator[list[str]]:
    names: list[str] = []
    try:
        names = _create_seed_collections(directus_client)
        yield names
    finally:
        for name in reversed(names or ["scenes", "your_collection", "articles"]):
            with contextlib.suppress(DirectusError):
                directus_client.transport.data("DELETE", "collections", name)


@pytest.fixture(scope="module")
def api_account(directus_client: DirectusClient, seed_collections: list[str]
                ) -> Iterator[Account]:
    """A role-less user, no app access, holding only what the seed's code needs."""
    with AccessGrants(directus_client) as grants:
        api = grants.api_client({"articles": ["read"], "scenes": ["read"],
                                 "your_collection": ["create", "read", "update", "delete"],
                                 "directus_files": ["create", "read"]})
        user_id = api.transport.data("GET", "users", "me", params={"fields": "id"})["id"]
        # The seed's code logs in too: give the user a password (and a token we know).
        password, token = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        user = directus_client.transport.data("PATCH", "users", user_id, json={
            "password": password, "token": token})
        yield Account("api", user["email"], password, token)


@pytest.fixture(params=["admin", "api"])
def account(request: pytest.FixtureRequest, directus: DirectusServer,
            seed_collections: list[str]) -> Account:
    if request.param == "admin":
        return Account("admin", directus.admin_email, directus.admin_password,
                       directus.admin_token)
    api: Account = request.getfixturevalue("api_account")
    return api


def test_seed_readme_runs_unchanged(directus: DirectusServer, directus_client: DirectusClient,
                                    account: Account) -> None:
    url = directus.url
    # Getting Started: no credentials, so only what the Public policy allows.
    anonymous = readme.getting_started(url)
    with pytest.raises(PermissionDenied):
        readme.making_a_request(anonymous)

    # Authentication: a static token takes precedence (the wrong password is never tried).
    directus = readme.authentication(url, account.token, account.email, "not-the-password")
    assert directus.auth == StaticToken(account.token)
    assert len(readme.making_a_request(directus)) == len(AUTHORS) + 1
    logged_in = readme.login_only(url, account.email, account.password)
    assert isinstance(logged_in.auth, Password)
    assert readme.making_a_request(logged_in) == readme.making_a_request(directus)

    items, filtered_items = readme.reading_items(directus)
    assert len(items) == 10
    assert {i["author"] for i in filtered_items} == {"Beff Jezos"}
    assert len(filtered_items) == AUTHORS.count("Beff Jezos")

    item = readme.reading_an_item_by_id(directus)
    assert (item["id"], item["title"]) == (53356, "The one the README reads")

    created_item = readme.creating_an_item(directus)
    assert (created_item["field1"], created_item["field2"]) == ("value1", "value2")
    item_id = str(created_item["id"])
    updated_item = readme.updating_an_item(directus, item_id)
    assert (updated_item["field1"], updated_item["field2"]) == ("new_value1", "value2")
    readme.deleting_an_item(directus, item_id)
    with pytest.raises((NotFound, PermissionDenied)):
        directus.read_item("your_collection", item_id)

    created_file = readme.registering_a_file(directus)
    try:
        assert created_file["title"] == "Big Buck Bunny Demo"
        assert (created_file["width"], created_file["duration"]) == (1920, 596047)
        files = readme.working_with_files(directus)
        assert 1 <= len(files) <= 5
        assert readme.file_titles([directus.read_file(created_file["id"])]) == [
            "Big Buck Bunny Demo"]
    finally:
        directus_client.delete_file(created_file["id"])
    for client in (anonymous, directus, logged_in):
        client.close()


def test_seed_tests_py_pattern(directus: DirectusServer, account: Account,
                               capsys: pytest.CaptureFixture[str]) -> None:
    scenes = readme.tests_py(directus.url, account.token)
    assert len(scenes) == 10
    assert all(set(scene) == {"id", "index", "footage_in", "footage_out"} for scene in scenes)
    assert str(scenes[0]["footage_in"]) in capsys.readouterr().out


def test_positional_username_and_password(directus: DirectusServer, account: Account,
                                          make_client: Callable[..., DirectusClient]) -> None:
    with make_client(directus.url, account.email, account.password) as client:
        assert isinstance(client.auth, Password)
        assert client.read_item("articles", 53356)["author"] == "Ann Lee"
        assert client.auth.logins == 1
    with pytest.raises(AuthenticationError):
        make_client(directus.url, account.email, "not-the-password").read_items("articles")


def test_except_directus_exception_catches_what_seed_code_expects(
    directus: DirectusServer, account: Account, make_client: Callable[..., DirectusClient]
) -> None:
    # The seed's own import line and except clause.
    from pydirectus.exceptions import DirectusAuthException, DirectusException

    assert DirectusException is DirectusError
    directus_client = make_client(directus.url, static_token=account.token)
    caught: list[DirectusException] = []
    for collection, item_id in (("articles", "424242"), ("no_such_collection", "1")):
        try:
            directus_client.read_item(collection=collection, id=item_id)
        except DirectusException as error:
            caught.append(error)
    assert len(caught) == 2
    assert all(isinstance(e, NotFound | PermissionDenied) for e in caught), caught
    try:
        readme.login_only(directus.url, account.email, "not-the-password").read_items("articles")
    except DirectusAuthException as error:
        assert isinstance(error, AuthenticationError) and error.code == "INVALID_CREDENTIALS"
    else:
        raise AssertionError("a wrong password logged in")
    directus_client.close()


def test_logger_receives_request_lines_and_never_a_secret(
    directus: DirectusServer, api_account: Account, monkeypatch: pytest.MonkeyPatch,
    make_client: Callable[..., DirectusClient],
) -> None:
    tokens: list[str] = []
    store = Password._store

    def keep_tokens(self: Password, endpoint: str, data: Any) -> str:
        # Every token Directus hands out passes here (login and refresh answers).
        tokens.extend((data["access_token"], data["refresh_token"]))
        return store(self, endpoint, data)

    monkeypatch.setattr(Password, "_store", keep_tokens)
    mine, library = LogRecords(), LogRecords()
    logger = logging.getLogger(f"tests.seed.{secrets.token_hex(4)}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(mine)
    logger.propagate = False
    monkeypatch.setattr(logging.getLogger("pydirectus"), "level", logging.DEBUG)
    logging.getLogger("pydirectus").addHandler(library)
    try:
        # The seed's positional order: hostname, username, password, static_token,
        # ssl_verify, logger.
        client = make_client(directus.url, api_account.email, api_account.password, None,
                             False, logger)
        client.read_items("articles", {"filter": {"title": {"_eq": api_account.password}}})
        assert isinstance(client.auth, Password)
        client.auth._refresh_at = 0.0              # the next request refreshes first
        client.read_item("articles", 53356)
        with pytest.raises((NotFound, PermissionDenied)):
            client.read_item("articles", 424242)
        client.close()                             # logout
    finally:
        logging.getLogger("pydirectus").removeHandler(library)
    assert len(tokens) == 4  # a login and a refresh
    lines = mine.messages()
    sent = [line.split(" in ")[0] for line in lines if " -> " in line]
    assert sent[0] == "POST /auth/login -> 200" and sent[-1] == "POST /auth/logout -> 204"
    for line in ("GET /items/articles -> 200", "POST /auth/refresh -> 200",
                 "GET /items/articles/53356 -> 200", "GET /items/articles/424242 -> 403"):
        assert line in sent, lines
    assert any("access token renewed" in line for line in lines)
    texts = lines + [repr(record.args) for record in mine.records]
    for secret in (api_account.password, api_account.token, *tokens):
        assert not [text for text in texts if secret in text]
    assert library.records == []  # this client's lines went to its logger only


# --- ssl_verify against a TLS server with a self-signed certificate -------------------------


class _TLSForwarder(http.server.ThreadingHTTPServer):
    daemon_threads = True
    upstream: str

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that refuses the certificate drops the connection: expected


class _Forward(http.server.BaseHTTPRequestHandler):
    server: _TLSForwarder

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        parts = urlsplit(self.server.upstream)
        upstream = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
        try:
            headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
            upstream.request("GET", self.path, headers=headers)
            answer = upstream.getresponse()
            body = answer.read()
        finally:
            upstream.close()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type") or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60)
    return cert, key


@pytest.fixture
def tls_url(directus: DirectusServer, self_signed: tuple[Path, Path]) -> Iterator[str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*map(str, self_signed))
    server = _TLSForwarder(("127.0.0.1", 0), _Forward)
    server.upstream = directus.url
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_ssl_verify_on_a_self_signed_server(
    tls_url: str, account: Account, self_signed: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch, make_client: Callable[..., DirectusClient],
    directus_face: str,
) -> None:
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    # Ours verifies by default (the seed did not): the self-signed certificate is refused.
    with pytest.raises(TLSError):
        make_client(tls_url, static_token=account.token).read_items("articles")
    verified = make_client(tls_url, static_token=account.token, ssl_verify=str(self_signed[0]))
    assert verified.read_item("articles", 53356)["title"] == "The one the README reads"
    verified.close()
    unverified = [make_client(tls_url, static_token=account.token, ssl_verify=False),
                  make_client(tls_url, None, None, account.token, False),
                  make_client(tls_url, auth=StaticToken(account.token), verify=False)]
    for client in unverified:
        # Switched off on request; on the sync face urllib3 still says so on every such
        # request (aiohttp does not warn).
        warns = (pytest.warns(urllib3.exceptions.InsecureRequestWarning)
                 if directus_face == "sync" else contextlib.nullcontext())
        with warns:
            assert client.read_item("articles", 53356)["title"] == "The one the README reads"
        client.close()


# --- the seed's TypedDicts against what Directus 12 sends and accepts ----------------------


def test_typed_query_runs(directus_client: DirectusClient,
                          make_collection: CollectionFactory) -> None:
    posts = make_collection({"title": "string", "author": "string", "views": "integer"})
    notes = make_collection({"body": "string"})
    make_collection.many_to_one(notes, "post", posts, one_field="notes")
    for n, (author, views) in enumerate([("Beff Jezos", 0), ("Ann Lee", 150), ("Sam Ito", 300),
                                         ("Ann Lee", 50)]):
        post = directus_client.create_item(posts, {"title": f"Post {n}", "author": author,
                                                   "views": views})
        for m in range(3):
            directus_client.create_item(notes, {"body": f"note {m}", "post": post["id"]})
    items = readme.typed_query(directus_client, posts, "notes")
    # Post 3 is neither by Beff nor popular; Post 2's fields hold no "e" for the search.
    assert [i["headline"] for i in items] == ["Post 1", "Post 0"]
    assert all(len(i["notes"]) == 2 for i in items)  # the deep _limit
    for item in items:
        ids = [note["id"] for note in item["notes"]]
        assert ids == sorted(ids, reverse=True)  # the deep _sort


def test_every_query_dict_key_is_accepted(directus: Any, directus_client: DirectusClient,
                                         make_collection: CollectionFactory) -> None:
    posts = make_collection({"title": "string", "views": "integer"})
    notes = make_collection({"body": "string"})
    make_collection.many_to_one(notes, "post", posts, one_field="notes")
    post = directus_client.create_item(posts, {"title": "a", "views": 3})
    for body in ("n", "m", "n"):
        directus_client.create_item(notes, {"body": body, "post": post["id"]})
    deep: DeepQuery = {
        "_fields": ["id", "body"], "_filter": {"body": {"_eq": "n"}}, "_search": "n",
        "_sort": ["-id"], "_limit": 5, "_offset": 0, "_page": 1, "_alias": {"b": "body"},
    }
    every: QueryDict = {
        "fields": ["id", "title", "notes.*"], "filter": {"views": {"_gt": 1}}, "search": "a",
        "sort": ["-views"], "limit": 5, "offset": 0, "page": 1, "meta": ["total_count"],
        "deep": {"notes": deep}, "alias": {"t": "title"},
        "aggregate": {"count": ["*"]}, "groupBy": ["title"], "version": "draft",
        "backlink": False,
    }
    assert set(every) == set(QueryDict.__annotations__)
    assert set(deep) | {"_aggregate", "_groupBy"} == set(DeepQuery.__annotations__)
    Query.from_dict(every)  # the builder parses every key of the dict type
    # Directus takes each key on its own (aggregation and versions change the answer's shape).
    for key, value in every.items():
        if key == "version":
            continue  # needs a content version; Query.from_dict above covers the key
        query: dict[str, Any] = {key: value}
        if key == "groupBy":
            query["aggregate"] = {"count": ["*"]}
        directus_client.read_items(posts, query)
    counted: DeepQuery = {"_aggregate": {"count": ["*"]}, "_groupBy": ["body"]}
    grouped = {"fields": ["id", "notes.*"], "deep": {"notes": counted}}
    if directus.database == "postgresql":
        # Directus selects the related key beside the groups, which PostgreSQL refuses
        # ("must appear in the GROUP BY clause"); SQLite lets it through.
        with pytest.raises(ServerError, match="GROUP BY"):
            directus_client.read_items(posts, grouped)
        return
    [row] = directus_client.read_items(posts, grouped)
    assert {(n["body"], int(n["count"])) for n in row["notes"]} == {("n", 2), ("m", 1)}


def test_system_dicts_cover_what_directus_sends(directus_client: DirectusClient) -> None:
    folder = directus_client.folders.create({"name": "seed-typed"})
    file = directus_client.create_file({"storage": "local", "filename_disk": "typed.txt",
                                        "filename_download": "typed.txt", "type": "text/plain",
                                        "folder": folder["id"]})
    try:
        activity: list[Activity] = directus_client.transport.data(
            "GET", "activity", params={"limit": "5", "sort": "-id"})
        assert activity
        for row in activity:
            # comment left Directus in v11; Activity keeps the key for the seed's code.
            assert set(row) == set(Activity.__annotations__) - {"comment"}, sorted(row)
        assert readme.who_did_what(activity)[0][1] in ("create", "update", "delete", "login")
        row_file: File = directus_client.read_file(file["id"])
        assert set(row_file) <= set(File.__annotations__), set(row_file) - set(
            File.__annotations__)
        row_folder: Folder = directus_client.folders.get(folder["id"])
        assert set(row_folder) == set(Folder.__annotations__)
        assert readme.folder_path(row_folder) == "/seed-typed"
    finally:
        directus_client.delete_file(file["id"])
        directus_client.folders.delete(folder["id"])

