"""client.graphql(): argument checks, which operations are retried, and how answers map to
the error tree (over a recording adapter: no server; the real one is in
tests/integration/test_graphql.py)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import pytest
import requests

from pydirectus import DirectusClient, RetryPolicy, StaticToken
from pydirectus.core.graphql import Operation, graphql_call, operations
from pydirectus.errors import (
    AuthenticationError,
    GraphQLAuthenticationError,
    GraphQLError,
    GraphQLInvalidRequest,
    GraphQLPermissionDenied,
    GraphQLRateLimited,
    GraphQLServerError,
    InvalidQuery,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    ServerError,
    UsageError,
    graphql_error,
)

URL = "http://directus.test"
TOKEN = "graphql-unit-token-0123456789"


class Answering(requests.adapters.BaseAdapter):
    """Answer every request with one status and JSON body; record what was sent."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__()
        self.status = status
        self.body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def client_answering(status: int, body: Any) -> tuple[DirectusClient, Answering]:
    session = requests.Session()
    adapter = Answering(status, body)
    session.mount("http://", adapter)
    return DirectusClient(URL, auth=StaticToken(TOKEN), session=session,
                          retry=RetryPolicy(attempts=1)), adapter


def sent_body(adapter: Answering, index: int = 0) -> Any:
    body = adapter.sent[index].body
    assert isinstance(body, bytes)
    return json.loads(body)


# Arguments.

@pytest.mark.parametrize(("arguments", "named"), [
    (("",), "query"), (("   \n",), "query"), ((None,), "query"), ((b"{ a }",), "query"),
    (("{ a }", ["x"]), "variables"), (("{ a }", "x=1"), "variables"),
    (("{ a }", {1: "x"}), "variables"), (("{ a }", {"": 1}), "variables"),
])
def test_bad_arguments_are_refused_before_sending(arguments: tuple[Any, ...], named: str) -> None:
    client, adapter = client_answering(200, {"data": {}})
    with pytest.raises(UsageError, match=f"^{named}: expected"):
        client.graphql(*arguments)
    assert adapter.sent == []


@pytest.mark.parametrize("system", [1, "yes", None])
def test_system_must_be_a_bool(system: Any) -> None:
    client, adapter = client_answering(200, {"data": {}})
    with pytest.raises(UsageError, match=r"^system: expected True or False"):
        client.graphql("{ a }", system=system)
    assert adapter.sent == []


@pytest.mark.parametrize("name", ["", 3])
def test_operation_name_must_be_a_name(name: Any) -> None:
    with pytest.raises(UsageError, match=r"^operation_name: expected"):
        graphql_call("query A { a }", operation_name=name)


def test_a_variable_json_cannot_carry_is_named_and_nothing_is_sent() -> None:
    client, adapter = client_answering(200, {"data": {}})
    with pytest.raises(InvalidQuery, match=r"variables\.ids\[1\]"):
        client.graphql("query($ids: [ID]) { a(ids: $ids) }", {"ids": [1, object()]})
    with pytest.raises(UsageError, match=r"variables\.when"):
        client.graphql("{ a }", {"when": float("nan")})
    assert adapter.sent == []


def test_a_lone_surrogate_in_the_document_is_refused() -> None:
    with pytest.raises(UsageError, match="query"):
        graphql_call("{ a(x: \"\ud800\") }")


def test_a_subscription_is_refused_over_http() -> None:
    with pytest.raises(UsageError, match="subscription needs a websocket"):
        graphql_call("subscription { articles_mutated { key } }")


def test_the_request_is_a_post_of_query_variables_and_operation_name() -> None:
    client, adapter = client_answering(200, {"data": {"a": 1}})
    when = dt.datetime(2024, 1, 2, 3, 4, 5)
    assert client.graphql("query A($w: String) { a } query B { b }",
                          {"w": when, "d": decimal.Decimal("1.50")}, operation_name="A",
                          system=True) == {"a": 1}
    request = adapter.sent[0]
    assert request.method == "POST" and request.url == f"{URL}/graphql/system"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert sent_body(adapter) == {"query": "query A($w: String) { a } query B { b }",
                                  "variables": {"w": "2024-01-02T03:04:05", "d": "1.50"},
                                  "operationName": "A"}
    client.graphql("{ a }")
    assert adapter.sent[1].url == f"{URL}/graphql"
    assert sent_body(adapter, 1) == {"query": "{ a }"}


# Which operations are retried.

@pytest.mark.parametrize(("document", "found"), [
    ("{ a }", [Operation("query", None)]),
    ("query { a }", [Operation("query", None)]),
    ("query Q($x: F = {a: 1}) @d(a: {b: \"}\"}) { a(f: {x: \"}\"}) { b } } mutation M { c }",
     [Operation("query", "Q"), Operation("mutation", "M")]),
    ("# mutation { x }\nfragment F on T { a } query A { ...F }", [Operation("query", "A")]),
    ('query Z { a(x: """} mutation \\""" {""") }', [Operation("query", "Z")]),
    ("mutation{a}query q{b}", [Operation("mutation", None), Operation("query", "q")]),
    ('query Z { a(x: """a "quoted" \\ } mutation""", y: "\\" } \\"") }',
     [Operation("query", "Z")]),
    ("query @live { a }", [Operation("query", None)]),
    ("mutation M @d { a }", [Operation("mutation", "M")]),
    ("subscription S { a }", [Operation("subscription", "S")]),
    ("query { a", [Operation("query", None)]),
])
def test_operations_are_told_apart(document: str, found: list[Operation]) -> None:
    assert operations(document) == found


@pytest.mark.parametrize(("document", "name", "retryable"), [
    ("{ a }", None, True),
    ("query Q { a }", None, True),
    ("mutation { a }", None, False),
    ("query Q { a } mutation M { b }", "Q", True),
    ("query Q { a } mutation M { b }", "M", False),
    ("query Q { a } mutation M { b }", None, False),  # the server refuses it: no retry
    ("query Q { a }", "Other", False),
    ("not graphql at all", None, False),  # unknown: counted as a mutation
])
def test_only_a_query_is_retryable(document: str, name: str | None, retryable: bool) -> None:
    assert graphql_call(document, operation_name=name).retryable is retryable


# Answers and errors.

def test_errors_in_a_200_raise_with_the_partial_data_path_and_code() -> None:
    client, _ = client_answering(200, {
        "data": {"a": [{"id": "1"}], "b": None, "me": {"token": TOKEN}},
        "errors": [{"message": "You don't have permission to access this.",
                    "extensions": {"code": "FORBIDDEN"},
                    "locations": [{"line": 1, "column": 46}], "path": ["b"]},
                   {"message": "second", "extensions": {"code": "FORBIDDEN"},
                    "path": ["c", 0, "d"]}]})
    with pytest.raises(GraphQLPermissionDenied) as caught:
        client.graphql("{ a { id } b: a_by_id(id: 9) { id } me { token } }")
    error = caught.value
    assert isinstance(error, PermissionDenied) and isinstance(error, GraphQLError)
    assert (error.status, error.code, error.path) == (200, "FORBIDDEN", ("b",))
    assert error.locations == [{"line": 1, "column": 46}]
    assert error.message == ("You don't have permission to access this. (line 1, column 46) "
                             "(and 1 more error)")
    assert str(error).endswith("(path: b)")
    assert error.data["a"] == [{"id": "1"}] and error.data["b"] is None
    assert len(error.errors) == 2 and error.errors[1]["path"] == ["c", 0, "d"]
    # What an error holds is scrubbed: the token in the partial data too.
    assert TOKEN not in repr(error.data) and TOKEN not in str(error) + repr(error)


def test_a_refused_document_is_an_invalid_request_with_directus_details() -> None:
    client, _ = client_answering(400, {"errors": [{
        "message": "GraphQL validation error.",
        "extensions": {"code": "GRAPHQL_VALIDATION", "errors": [
            {"message": 'Cannot query field "nope" on type "Query".',
             "locations": [{"line": 1, "column": 3}]},
            {"message": 'Unknown type "Nope".', "locations": [{"line": 2, "column": 9}]}]}}]})
    with pytest.raises(GraphQLInvalidRequest) as caught:
        client.graphql("{ nope }")
    error = caught.value
    assert isinstance(error, InvalidRequest)
    assert (error.status, error.code, error.path) == (400, "GRAPHQL_VALIDATION", None)
    assert error.message == ('GraphQL validation error: Cannot query field "nope" on type '
                             '"Query". (line 1, column 3); Unknown type "Nope". (line 2, '
                             'column 9)')
    assert error.locations == [{"line": 1, "column": 3}]
    assert error.data is None and error.response is not None


@pytest.mark.parametrize(("status", "code", "expected", "rest"), [
    (200, "FORBIDDEN", GraphQLPermissionDenied, PermissionDenied),
    (200, "INVALID_CREDENTIALS", GraphQLAuthenticationError, AuthenticationError),
    (200, "INVALID_PAYLOAD", GraphQLInvalidRequest, InvalidRequest),
    (200, "EMAIL_LIMIT_EXCEEDED", GraphQLRateLimited, RateLimited),
    (200, "INTERNAL_SERVER_ERROR", GraphQLServerError, ServerError),
    (200, None, GraphQLServerError, ServerError),  # a 200 with an error but no code
    (400, "GRAPHQL_EXECUTION", GraphQLInvalidRequest, InvalidRequest),
    (400, "SOMETHING_NEW", GraphQLInvalidRequest, InvalidRequest),
    (403, "SOMETHING_NEW", GraphQLPermissionDenied, PermissionDenied),
])
def test_codes_map_to_the_graphql_class_of_their_rest_class(
        status: int, code: str | None, expected: type[GraphQLError], rest: type[Exception],
) -> None:
    extensions = {"code": code} if code else {}
    error = graphql_error(status, [{"message": "m", "extensions": extensions}])
    assert type(error) is expected and isinstance(error, rest)
    assert error.code == code


def test_a_path_is_taken_from_the_first_error_that_has_one() -> None:
    error = graphql_error(200, [{"message": "no path"}, {"message": "m", "path": ["a", 2, "b"]},
                                {"message": "n", "path": ["z"]}])
    assert error.path == ("a", 2, "b")
    assert graphql_error(200, [{"message": "m", "path": ["a", True]}]).path is None
    assert graphql_error(200, [{"message": "m", "path": "a.b"}]).path is None


def test_secrets_in_error_messages_are_redacted() -> None:
    # graphql-js quotes a value of the wrong type: a token given where a number goes.
    client, _ = client_answering(400, {"errors": [{
        "message": "GraphQL validation error.",
        "extensions": {"code": "GRAPHQL_VALIDATION", "errors": [
            {"message": f'Int cannot represent non-integer value: "{TOKEN}"'}]}}]})
    with pytest.raises(GraphQLInvalidRequest) as caught:
        client.graphql("{ a }")
    error = caught.value
    assert "Int cannot represent" in error.message
    for text in (str(error), repr(error), error.message, repr(error.errors),
                 repr(error.extensions), error.response.text if error.response else ""):
        assert TOKEN not in text


@pytest.mark.parametrize(("status", "rest"), [(401, AuthenticationError), (429, RateLimited),
                                              (503, ServerError)])
def test_refusals_that_are_not_the_documents_keep_their_rest_class(
        status: int, rest: type[Exception]) -> None:
    client, _ = client_answering(status, {"errors": [{"message": "no",
                                                      "extensions": {"code": "X"}}]})
    with pytest.raises(rest) as caught:
        client.graphql("{ a }")
    assert not isinstance(caught.value, GraphQLError)


@pytest.mark.parametrize(("body", "shape"), [
    (b'{"data": null}', "the body's data"),
    (b'{"data": [1]}', "the body's data"),
    (b'{"other": 1}', "the body"),
    (b'[1, 2]', "the body"),
    (b"", "the body"),
])
def test_an_answer_of_another_shape_is_a_server_error_naming_the_route(
        body: bytes, shape: str) -> None:
    client, _ = client_answering(200, body)
    with pytest.raises(ServerError, match=f"POST /graphql: expected {shape} to be") as caught:
        client.graphql("{ a }")
    assert not isinstance(caught.value, GraphQLError)


def test_a_non_json_answer_is_a_server_error() -> None:
    client, _ = client_answering(200, b"<html>proxy</html>")
    with pytest.raises(ServerError, match="expected JSON"):
        client.graphql("{ a }")


@pytest.mark.parametrize(("document", "sent"), [("query { a }", 3), ("mutation { a }", 1)])
def test_a_503_is_retried_for_a_query_only(document: str, sent: int) -> None:
    session = requests.Session()
    adapter = Answering(503, b"")
    session.mount("http://", adapter)
    client = DirectusClient(URL, auth=StaticToken(TOKEN), session=session,
                            retry=RetryPolicy(attempts=3, backoff=0))
    with pytest.raises(ServerError) as caught:
        client.graphql(document)
    assert len(adapter.sent) == sent
    assert caught.value.status == 503 and not isinstance(caught.value, GraphQLError)
