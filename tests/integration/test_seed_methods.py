"""The seed's methods end to end against the real local Directus."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pydirectus import DirectusClient, NotFound, PermissionDenied, Query, StaticToken
from pydirectus.testing import DirectusServer
from pydirectus.testing.dialects import nulls_sort_first

ARTICLE_FIELDS = {"title": "string", "author": "string", "views": "integer"}


@pytest.fixture
def articles(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection(ARTICLE_FIELDS, prefix="articles")
    for title, author, views in [("A", "Beff Jezos", 10), ("B", "Ann", 20), ("C", "Beff Jezos", 30),
                                 ("D", "Beff Jezos", None)]:
        directus_client.create_item(name, {"title": title, "author": author, "views": views})
    return name


def test_seed_readme_filter_and_limit(directus_client: DirectusClient, articles: str) -> None:
    items = directus_client.read_items(
        articles, query={"filter": {"author": {"_eq": "Beff Jezos"}}, "limit": 2, "sort": "title"})
    assert [i["title"] for i in items] == ["A", "C"]
    assert all(i["author"] == "Beff Jezos" for i in items)


def test_read_items_query_dict_parts(directus_client: DirectusClient, articles: str) -> None:
    items = directus_client.read_items(articles, query={
        "fields": ["title", "views"], "sort": ["-views"], "limit": 2,
        "filter": {"views": {"_nnull": True}}})
    assert items == [{"title": "C", "views": 30}, {"title": "B", "views": 20}]
    grouped = directus_client.read_items(articles, query={
        "aggregate": {"count": "*"}, "groupBy": ["author"], "sort": ["author"]})
    assert {(g["author"], int(g["count"])) for g in grouped} == {("Ann", 1), ("Beff Jezos", 3)}
    page2 = directus_client.read_items(articles, query={"sort": "title", "limit": 1, "page": 2,
                                                        "fields": "title"})
    assert page2 == [{"title": "B"}]
    found = directus_client.read_items(articles, query={"search": "Ann", "fields": ["title"]})
    assert found == [{"title": "B"}]
    aliased = directus_client.read_items(articles, query={
        "fields": ["title"], "filter": {"title": {"_eq": "A"}}, "offset": 0})
    assert aliased == [{"title": "A"}]


def test_read_items_accepts_a_query(directus: DirectusServer, directus_client: DirectusClient,
                                    articles: str) -> None:
    query = Query().filter(author="Beff Jezos").sort("-views").fields("title").limit(2)
    # "D" has no views: the database decides where NULLs go.
    top = ["D", "C"] if nulls_sort_first(directus.database, descending=True) else ["C", "A"]
    assert directus_client.read_items(articles, query=query) == [{"title": t} for t in top]


def test_item_crud(directus_client: DirectusClient, articles: str) -> None:
    created = directus_client.create_item(articles, data={"title": "E", "views": 5})
    assert created["title"] == "E"
    item_id = created["id"]
    assert directus_client.read_item(collection=articles, id=item_id)["title"] == "E"
    assert directus_client.read_item(articles, str(item_id), query={"fields": "views"}) == {
        "views": 5}
    updated = directus_client.update_item(collection=articles, id=item_id, data={"views": 6})
    assert updated["views"] == 6
    directus_client.delete_item(collection=articles, id=item_id)
    with pytest.raises((NotFound, PermissionDenied)):
        directus_client.read_item(articles, item_id)


def test_path_segments_cannot_escape_the_route(directus_client: DirectusClient,
                                               articles: str) -> None:
    # If the id were not encoded, this would read /users/me and succeed.
    with pytest.raises((NotFound, PermissionDenied)) as raised:
        directus_client.read_item(articles, "../../users/me")
    assert raised.value.response is not None
    assert raised.value.response.request.path_url.endswith("/..%2F..%2Fusers%2Fme")


def test_password_login(directus: DirectusServer, articles: str,
                        make_client: Callable[..., DirectusClient]) -> None:
    with make_client(hostname=directus.url, username=directus.admin_email,
                     password=directus.admin_password) as client:
        assert len(client.read_items(articles)) == 4
        assert client.auth is not None and client.auth.logins == 1  # type: ignore[attr-defined]


def test_static_token(directus: DirectusServer, articles: str,
                      make_client: Callable[..., DirectusClient]) -> None:
    with make_client(directus.url, auth=StaticToken(directus.admin_token)) as client:
        assert len(client.read_items(articles, query={"limit": 1})) == 1


def test_file_records(directus_client: DirectusClient) -> None:
    # The seed's File dict: register a record for a file that already sits in storage.
    file_data = {
        "storage": "local",
        "filename_disk": "existing-report.pdf",
        "filename_download": "report.pdf",
        "title": "Quarterly report",
        "type": "application/pdf",
    }
    created = directus_client.create_file(file_data)
    file_id = created["id"]
    try:
        assert created["filename_download"] == "report.pdf"
        assert directus_client.read_file(file_id)["title"] == "Quarterly report"
        listed = directus_client.read_files(query={"filter": {"id": {"_eq": file_id}},
                                                   "fields": ["id", "type"]})
        assert listed == [{"id": file_id, "type": "application/pdf"}]
        assert any(f["id"] == file_id for f in directus_client.read_files(query={"limit": 5}))
        updated = directus_client.update_file(file_id, {"title": "Q3 report"})
        assert updated["title"] == "Q3 report"
    finally:
        directus_client.delete_file(file_id)
    with pytest.raises((NotFound, PermissionDenied)):
        directus_client.read_file(file_id)


def test_server_endpoints(directus_client: DirectusClient) -> None:
    assert directus_client.server.ping() == "pong"
    assert "project" in directus_client.server.info()
    assert directus_client.server.health()["status"] in ("ok", "warn")
