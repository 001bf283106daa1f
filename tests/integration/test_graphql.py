"""client.graphql() against a real Directus, on the run's face (--directus-face=both runs
each test on the sync and the async client): queries, mutations seen by REST, the system
schema, errors in the tree, each token's rows, retries and exactly-once, long documents."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from pydirectus import DirectusClient, Password, RetryPolicy, StaticToken
from pydirectus.errors import (
    ConnectError,
    GraphQLError,
    GraphQLInvalidRequest,
    GraphQLPermissionDenied,
    GraphQLServerError,
    InvalidRequest,
    PermissionDenied,
    ServerError,
    TransportError,
    UnexpectedRedirect,
)
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants, TokenClients
from tests.faults import Fault, FaultProxy

FAST = RetryPolicy(attempts=4, backoff=0.01, max_backoff=0.05, total=10.0)
ROWS = [
    {"title": "alpha", "status": "published", "views": 30},
    {"title": "beta", "status": "draft", "views": 20},
    {"title": "gamma", "status": "archived", "views": 10},
]


@pytest.fixture
def articles(make_token_clients: Callable[..., TokenClients]) -> TokenClients:
    """Three rows; an admin, an API-only token with CRUD, and Public with read on them."""
    tokens = make_token_clients({"title": "string", "status": "string", "views": "integer"})
    tokens.admin.collection(tokens.collection).create_many(ROWS)
    return tokens


@pytest.fixture
def proxy(directus: DirectusServer) -> Iterator[FaultProxy]:
    with FaultProxy(directus.url, lifetime=60) as running:
        yield running


def test_a_query_with_variables_filters_sort_and_aliases(articles: TokenClients) -> None:
    name = articles.collection
    data = articles.admin.graphql(f"""
        query Articles($status: [String], $least: GraphQLStringOrFloat) {{
          chosen: {name}(filter: {{status: {{_in: $status}}, views: {{_gte: $least}}}},
                         sort: ["-views"]) {{ id heading: title views }}
          top: {name}(sort: ["-views"], limit: 1) {{ title }}
          counted: {name}_aggregated {{ count {{ id }} }}
        }}""", {"status": ["published", "draft", "archived"], "least": 15})
    assert [row["heading"] for row in data["chosen"]] == ["alpha", "beta"]
    assert [row["views"] for row in data["chosen"]] == [30, 20]
    # GraphQL's ID type: the integer keys come back as strings.
    assert all(isinstance(row["id"], str) and row["id"].isdigit() for row in data["chosen"])
    assert data["top"] == [{"title": "alpha"}]
    assert data["counted"] == [{"count": {"id": 3}}]


def test_operation_name_picks_one_operation_of_several(articles: TokenClients) -> None:
    name = articles.collection
    document = (f"query Titles {{ {name}(sort: [\"title\"]) {{ title }} }}\n"
                f"query Views {{ {name}(sort: [\"views\"]) {{ views }} }}")
    assert articles.admin.graphql(document, operation_name="Views") == {
        name: [{"views": 10}, {"views": 20}, {"views": 30}]}
    with pytest.raises(GraphQLError):
        articles.admin.graphql(document)  # two operations, none named: Directus refuses


def test_mutations_create_update_and_delete_and_rest_sees_each(articles: TokenClients) -> None:
    name = articles.collection
    client, handle = articles.api, articles.admin.collection(name)
    created = client.graphql(f"""
        mutation Add($data: create_{name}_input!) {{
          create_{name}_item(data: $data) {{ id title status views }}
        }}""", {"data": {"title": "delta", "status": "draft", "views": 5}})
    row = created[f"create_{name}_item"]
    key = int(row["id"])
    assert row == {"id": str(key), "title": "delta", "status": "draft", "views": 5}
    assert handle.get(key) == {"id": key, "title": "delta", "status": "draft", "views": 5}

    updated = client.graphql(f"""
        mutation Change($id: ID!, $views: Int) {{
          update_{name}_item(id: $id, data: {{views: $views, status: "published"}}) {{ views }}
        }}""", {"id": key, "views": 50})
    assert updated == {f"update_{name}_item": {"views": 50}}
    assert handle.get(key)["views"] == 50 and handle.get(key)["status"] == "published"

    many = client.graphql(f"""
        mutation {{ create_{name}_items(data: [{{title: "e1"}}, {{title: "e2"}}]) {{ id }} }}""")
    keys = [int(row["id"]) for row in many[f"create_{name}_items"]]
    assert sorted(r["title"] for r in handle.filter(id__in=keys).fetch()) == ["e1", "e2"]

    deleted = client.graphql(f"mutation($id: ID!) {{ delete_{name}_item(id: $id) {{ id }} }}",
                             {"id": key})
    assert deleted == {f"delete_{name}_item": {"id": str(key)}}
    assert handle.filter(id=key).fetch() == []


def test_system_queries(articles: TokenClients, directus: DirectusServer) -> None:
    me = articles.admin.graphql("{ users_me { email } server_info { project { project_name } } }",
                                system=True)
    assert me["users_me"]["email"] == directus.admin_email
    assert me["server_info"]["project"]["project_name"]
    # Tokens whose policy may not read directus_users (an API-only one, Public) read the
    # server's info, but their system schema has no users_me (REST's /users/me answers
    # them their id alone).
    for client in (articles.api, articles.public):
        assert client.graphql("{ server_info { project { project_name } } }", system=True)
        with pytest.raises(GraphQLInvalidRequest) as caught:
            client.graphql("{ users_me { email } }", system=True)
        assert caught.value.code == "GRAPHQL_VALIDATION"
        assert 'Cannot query field "users_me"' in caught.value.message
    # The items schema has no system collections (and the system one no user collections).
    with pytest.raises(GraphQLInvalidRequest):
        articles.admin.graphql("{ users_me { email } }")
    with pytest.raises(GraphQLInvalidRequest):
        articles.admin.graphql(f"{{ {articles.collection} {{ id }} }}", system=True)


def test_each_token_sees_only_what_its_policy_grants(
        articles: TokenClients, make_collection: Callable[..., str],
        access_grants: AccessGrants, directus_client: DirectusClient) -> None:
    # Directus 12 without a license refuses item rules in permissions (RESOURCE_RESTRICTED):
    # policies differ by collection. Public reads articles; the API-only token also members.
    members, staff = make_collection({"title": "string"}), make_collection({"title": "string"})
    directus_client.collection(members).create({"title": "for members"})
    directus_client.collection(staff).create({"title": "for staff"})
    directus_client.request("POST", "permissions", json={
        "policy": access_grants.policies[-1], "collection": members, "action": "read",
        "fields": ["*"], "permissions": {}, "validation": {}})
    titles = {articles.collection: {"alpha", "beta", "gamma"}, members: {"for members"},
              staff: {"for staff"}}
    granted = {"admin": {articles.collection, members, staff},
               "api": {articles.collection, members}, "public": {articles.collection}}
    for label, client in articles.items():
        for name, expected in titles.items():
            if name in granted[label]:
                data = client.graphql(f"{{ {name} {{ title }} }}")
                assert {row["title"] for row in data[name]} == expected, (label, name)
            else:
                with pytest.raises(GraphQLInvalidRequest, match=f'field "{name}"'):
                    client.graphql(f"{{ {name} {{ title }} }}")
                with pytest.raises(PermissionDenied):  # and REST agrees
                    client.collection(name).fetch()


def test_an_unknown_field_and_bad_syntax_are_invalid_requests(articles: TokenClients) -> None:
    name = articles.collection
    with pytest.raises(GraphQLInvalidRequest) as caught:
        articles.admin.graphql(f"{{ {name} {{ id nope }} }}")
    error = caught.value
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code, error.path) == (400, "GRAPHQL_VALIDATION", None)
    assert f'Cannot query field "nope" on type "{name}"' in error.message
    assert error.locations == [{"line": 1, "column": len(name) + 9}]
    with pytest.raises(GraphQLInvalidRequest) as caught:
        articles.admin.graphql(f"{{ {name} {{ id ")
    assert caught.value.code == "GRAPHQL_VALIDATION"
    assert "Syntax Error: Expected Name, found <EOF>" in caught.value.message


def test_what_a_token_may_not_read_is_refused_with_code_and_path(
        articles: TokenClients, make_collection: Callable[..., str]) -> None:
    name = articles.collection
    # A collection the policy does not grant is not in that token's schema at all.
    hidden = make_collection({"title": "string"})
    with pytest.raises(GraphQLInvalidRequest) as caught:
        articles.api.graphql(f"{{ {hidden} {{ id }} }}")
    assert caught.value.code == "GRAPHQL_VALIDATION"
    assert f'Cannot query field "{hidden}" on type "Query"' in caught.value.message
    # An item it may not read (Directus says the same of one that does not exist):
    # FORBIDDEN at that path, and the rest of the data kept on the error.
    with pytest.raises(GraphQLPermissionDenied) as refused:
        articles.api.graphql(f"""query($id: ID!) {{
            visible: {name}(sort: ["title"]) {{ title }}
            other: {name}_by_id(id: $id) {{ title }}
        }}""", {"id": 999_999})
    error = refused.value
    assert isinstance(error, PermissionDenied)
    assert (error.status, error.code, error.path) == (200, "FORBIDDEN", ("other",))
    assert error.data == {"visible": [{"title": t} for t in ("alpha", "beta", "gamma")],
                          "other": None}
    assert "(path: other)" in str(error)


def test_a_missing_variable_is_directus_internal_server_error(articles: TokenClients) -> None:
    # graphql-js refuses it while executing; Directus labels what is not its own error so.
    with pytest.raises(GraphQLServerError) as caught:
        articles.admin.graphql(f"query($id: ID!) {{ {articles.collection}_by_id(id: $id) "
                               f"{{ id }} }}")
    assert caught.value.code == "INTERNAL_SERVER_ERROR" and caught.value.status == 200
    assert 'Variable "$id" of required type "ID!" was not provided' in caught.value.message


def test_a_token_quoted_back_in_an_error_is_redacted(
        articles: TokenClients, directus: DirectusServer) -> None:
    token = directus.admin_token
    with pytest.raises(GraphQLInvalidRequest) as caught:
        articles.admin.graphql(f'{{ {articles.collection}(limit: "{token}") {{ id }} }}')
    error = caught.value
    assert "Int cannot represent non-integer value" in error.message
    for text in (str(error), repr(error), repr(error.errors), repr(error.extensions),
                 error.response.text if error.response is not None else ""):
        assert token not in text


def test_a_long_document_and_ten_thousand_variables(articles: TokenClients) -> None:
    name = articles.collection
    wanted = [row["title"] for row in ROWS]
    # ~100 KB, under Directus's GRAPHQL_QUERY_TOKEN_LIMIT (5000 tokens): long strings and
    # long aliases count one token each.
    decoys = [f"decoy title number {i:04d} " + "x" * 80 for i in range(900)]
    aliases = " ".join(f"alias_for_the_title_number_{i:03d}: title" for i in range(200))
    listed = ", ".join(json.dumps(title) for title in [*decoys, *wanted])
    document = (f'{{ {name}(filter: {{title: {{_in: [{listed}]}}}}, sort: ["title"]) '
                f"{{ {aliases} }} }}")
    assert len(document.encode()) >= 100_000
    rows = articles.admin.graphql(document)[name]
    assert [row["alias_for_the_title_number_199"] for row in rows] == sorted(wanted)
    assert len(rows[0]) == 200

    titles = [f"missing {i}" for i in range(9_999)] + ["beta"]
    found = articles.admin.graphql(
        f"query($titles: [String]) {{ {name}(filter: {{title: {{_in: $titles}}}}) {{ title }} }}",
        {"titles": titles})
    assert found == {name: [{"title": "beta"}]}


def test_a_document_over_the_servers_token_limit_is_refused_clearly(
        articles: TokenClients) -> None:
    aliases = " ".join(f"a{i}: id" for i in range(2_000))  # 6,000 tokens
    with pytest.raises(GraphQLInvalidRequest) as caught:
        articles.admin.graphql(f"{{ {articles.collection} {{ {aliases} }} }}")
    assert caught.value.code == "GRAPHQL_VALIDATION"
    assert "Document contains more that 5000 tokens" in caught.value.message  # sic


def test_graphql_values_keep_graphqls_types(make_collection: Callable[..., str],
                                            directus_client: DirectusClient) -> None:
    name = make_collection({
        "big": "bigInteger", "amount": {"type": "decimal", "meta": {},
                                        "schema": {"numeric_precision": 10, "numeric_scale": 2}},
        "ratio": "float", "count": "integer", "flag": "boolean", "happened": "dateTime",
        "day": "date", "doc": "json", "ref": "uuid"})
    row = {"big": 9_007_199_254_740_993, "amount": "12.34", "ratio": 1.5, "count": 7,
           "flag": True, "happened": "2024-01-02T03:04:05", "day": "2024-01-02",
           "doc": {"a": [1, 2]}, "ref": "8a1d5b8e-6b2a-4c5f-9a51-0f4a2c3d4e5f"}
    key = directus_client.collection(name).create(row)["id"]
    fields = " ".join(["id", *row])
    got = directus_client.graphql(f"{{ {name} {{ {fields} }} }}")[name][0]
    rest = directus_client.collection(name).get(key)
    assert got["id"] == str(key)                      # ID: a string
    assert got["big"] == str(rest["big"])             # GraphQLBigInt: a string
    assert got["amount"] == 12.34                     # Float, even where REST says "12.34"
    assert (got["ratio"], got["count"], got["flag"]) == (1.5, 7, True)
    assert got["doc"] == {"a": [1, 2]} and got["ref"] == row["ref"]
    # Dates as the text Directus answers (REST's Python types are not applied).
    assert isinstance(got["happened"], str) and got["happened"].startswith("2024-01-02")
    assert got["day"] == "2024-01-02"


def test_a_query_is_retried_after_a_503(
        proxy: FaultProxy, make_client: Callable[..., DirectusClient],
        directus: DirectusServer, articles: TokenClients) -> None:
    proxy.add(Fault.status(503, b"", {"Retry-After": "0"}, path="/graphql"))
    client = make_client(proxy.url, auth=StaticToken(directus.admin_token), retry=FAST)
    data = client.graphql(f"{{ {articles.collection}(sort: [\"title\"]) {{ title }} }}")
    assert [row["title"] for row in data[articles.collection]] == ["alpha", "beta", "gamma"]
    assert [seen.fault for seen in proxy.requests_to("/graphql", "POST")] == ["status", None]


def test_a_mutation_whose_answer_was_lost_is_not_sent_again(
        proxy: FaultProxy, make_client: Callable[..., DirectusClient],
        directus: DirectusServer, articles: TokenClients) -> None:
    name = articles.collection
    proxy.add(Fault.forward_then_reset(method="POST", path="/graphql"))
    client = make_client(proxy.url, auth=StaticToken(directus.admin_token), retry=FAST)
    with pytest.raises(TransportError) as caught:
        client.graphql(f'mutation {{ create_{name}_item(data: {{title: "once"}}) {{ id }} }}')
    assert isinstance(caught.value, ConnectError)
    assert caught.value.request_sent is True  # the caller is told it may have landed
    assert len(proxy.requests_to("/graphql", "POST")) == 1
    assert len(articles.admin.collection(name).filter(title="once").fetch()) == 1


def test_a_mutation_is_not_retried_on_a_gateway_error(
        proxy: FaultProxy, make_client: Callable[..., DirectusClient],
        directus: DirectusServer, articles: TokenClients) -> None:
    name = articles.collection
    proxy.add(Fault.forward_then_status(503, path="/graphql"))
    client = make_client(proxy.url, auth=StaticToken(directus.admin_token), retry=FAST)
    with pytest.raises(ServerError) as caught:
        client.graphql(f'mutation {{ create_{name}_item(data: {{title: "twice?"}}) {{ id }} }}')
    assert caught.value.status == 503 and not isinstance(caught.value, GraphQLError)
    assert len(proxy.requests_to("/graphql", "POST")) == 1
    assert len(articles.admin.collection(name).filter(title="twice?").fetch()) == 1


def test_an_expired_token_is_renewed_and_the_mutation_sent_once_more(
        proxy: FaultProxy, make_client: Callable[..., DirectusClient],
        directus: DirectusServer, articles: TokenClients) -> None:
    # A 401 TOKEN_EXPIRED was refused before any work: renewing and re-sending a mutation
    # cannot apply it twice.
    name = articles.collection
    expired = json.dumps({"errors": [{"message": "Token expired.",
                                      "extensions": {"code": "TOKEN_EXPIRED"}}]}).encode()
    client = make_client(proxy.url, auth=Password(directus.admin_email, directus.admin_password),
                         retry=FAST)
    assert client.graphql("{ users_me { email } }", system=True)  # logged in
    proxy.add(Fault.status(401, expired, {"Content-Type": "application/json"},
                           method="POST", path="/graphql"))
    made = client.graphql(f'mutation {{ create_{name}_item(data: {{title: "renewed"}}) '
                          f"{{ title }} }}")
    assert made == {f"create_{name}_item": {"title": "renewed"}}
    assert [(s.path, s.fault) for s in proxy.seen[-3:]] == [
        ("/graphql", "status"), ("/auth/refresh", None), ("/graphql", None)]
    assert len(articles.admin.collection(name).filter(title="renewed").fetch()) == 1


def test_a_redirected_graphql_post_is_not_followed(
        proxy: FaultProxy, make_client: Callable[..., DirectusClient],
        directus: DirectusServer, articles: TokenClients) -> None:
    proxy.add(Fault.redirect(307, f"{directus.url}/graphql", method="POST", path="/graphql"))
    client = make_client(proxy.url, auth=StaticToken(directus.admin_token), retry=FAST)
    with pytest.raises(UnexpectedRedirect) as caught:
        client.graphql(f"{{ {articles.collection} {{ id }} }}")
    assert caught.value.location == f"{directus.url}/graphql"
    assert len(proxy.requests_to("/graphql")) == 1
