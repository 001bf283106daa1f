"""GraphQL over HTTP: ``POST /graphql`` (or ``/graphql/system``), as a plan like any REST call.

The call goes through the same exchange as REST (auth, token renewal, retries, redirect
rules). Whether it may be retried after the server may have seen it is the operation's:
a query may, a mutation may not (it is not idempotent), so the document's operations
are told apart here with a small scanner (strings, block strings and comments skipped,
brackets counted), not a GraphQL parser. Where it cannot tell, the call counts as a
mutation: never retried once it may have landed.

The answer's ``data`` is returned as GraphQL typed it (see the README: ``ID`` and
``GraphQLBigInt`` as strings, decimals as floats, dates as text), not
converted to REST's Python types; ``errors`` raise a
``GraphQLError`` of the first error's code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

import attrs

from ..encoding import check_unicode
from ..errors import APIError, AuthenticationError, RateLimited, UsageError, graphql_error
from .plans import OBJECT, Call, Plan, Reply, Shape, decode_json, shape_of, wrong_shape

__all__ = ["Operation", "execute", "graphql_call", "operations"]

#: what a GraphQL document's top level starts a definition with
_OPERATION_KINDS: Final = frozenset({"query", "mutation", "subscription"})
# One lexical token of GraphQL (commas are insignificant, like white space). Block strings
# escape only \"""; plain strings end at a quote not escaped (or the line's end).
_TOKEN: Final = re.compile(r'''
    (?P<skip>[\s,\ufeff]+|\#[^\n\r]*)
  | (?P<string>"""[^"\\]*(?:(?:\\"""|\\|"(?!""))[^"\\]*)*(?:"""|\Z)
               |"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<open>[{(\[])
  | (?P<close>[})\]])
  | (?P<other>.)
''', re.VERBOSE | re.DOTALL)

#: what POST /graphql answers: an object with data, errors or both
_ANSWER: Final = Shape("a GraphQL answer (an object with 'data' or 'errors')",
                       lambda value: isinstance(value, dict) and (
                           "data" in value or "errors" in value))


@attrs.frozen
class Operation:
    """One operation defined by a document: its kind and name (None: anonymous)."""

    kind: str
    name: str | None


def operations(document: str) -> list[Operation]:
    """Return the operations a GraphQL document defines, in order (fragments left out).

    The shorthand ``{ ... }`` is an anonymous query. A document the scanner cannot follow
    (a syntax error) yields what it saw: the server says what is wrong with it.
    """
    found: list[Operation] = []
    depth = 0
    # The keyword that opened the definition being read at the top level, if any.
    opened: str | None = None
    named = False
    for match in _TOKEN.finditer(document):
        group = match.lastgroup
        if group in ("skip", "string"):
            continue
        text = match.group()
        if group == "open":
            if depth == 0 and opened is None and text == "{":
                found.append(Operation("query", None))
                opened = "query"
            depth += 1
            continue
        if group == "close":
            depth = max(depth - 1, 0)
            if depth == 0 and text == "}":
                opened, named = None, False  # the definition's selection set is closed
            continue
        if depth:
            continue
        if group == "other":
            # A directive (@name) comes after the operation's name, never before it.
            named = named or (text == "@" and opened is not None)
            continue
        if opened is None:
            opened = text
            if text in _OPERATION_KINDS:
                found.append(Operation(text, None))
        elif not named and opened in _OPERATION_KINDS:
            named = True
            found[-1] = Operation(opened, text)
        else:
            named = True
    return found


def _chosen(document: str, operation_name: str | None) -> Operation | None:
    """Return the operation the server will run (None: it will refuse, or unknown)."""
    defined = operations(document)
    if operation_name is not None:
        picked = [op for op in defined if op.name == operation_name]
    else:
        picked = defined if len(defined) == 1 else []
    return picked[0] if len(picked) == 1 else None


def graphql_call(query: Any, variables: Any = None, *, system: Any = False,
                 operation_name: Any = None) -> Call:
    """Check the arguments and build the POST /graphql (or /graphql/system) call.

    Raises UsageError naming what is wrong before anything is sent; a variable JSON
    cannot carry raises InvalidQuery (a UsageError) naming its key path when the call is
    run, still before sending.
    """
    if not isinstance(query, str) or not query.strip():
        got = repr(query) if isinstance(query, str) else type(query).__name__
        raise UsageError(f"query: expected a GraphQL document (a non-empty str), got {got}")
    check_unicode(query, "query")
    if variables is not None and not isinstance(variables, Mapping):
        raise UsageError(f"variables: expected a dict of variable name -> value, got "
                         f"{type(variables).__name__}")
    for name in variables or {}:
        if not isinstance(name, str) or not name:
            raise UsageError(f"variables: expected names that are non-empty strings, got "
                             f"{name!r}")
    if not isinstance(system, bool):
        raise UsageError(f"system: expected True or False, got {system!r}")
    if operation_name is not None and (not isinstance(operation_name, str)
                                       or not operation_name):
        raise UsageError(f"operation_name: expected the name of an operation in the "
                         f"document (a non-empty str) or None, got {operation_name!r}")
    chosen = _chosen(query, operation_name)
    if chosen is not None and chosen.kind == "subscription":
        raise UsageError("query: a subscription needs a websocket; POST /graphql runs "
                         "queries and mutations only")
    body: dict[str, Any] = {"query": query}
    if variables:
        body["variables"] = dict(variables)
    if operation_name is not None:
        body["operationName"] = operation_name
    segments = ("graphql", "system") if system else ("graphql",)
    # Only a query is safe to send again once the server may have seen it.
    return Call("POST", segments, json=body,
                idempotent=chosen is not None and chosen.kind == "query")


def execute(call: Call) -> Plan[dict[str, Any]]:
    """POST a GraphQL call (see graphql_call); return the answer's ``data``, or raise a
    GraphQLError for its ``errors`` (with the partial data attached)."""
    try:
        reply: Reply = yield call
    except (AuthenticationError, RateLimited):
        raise  # the credentials or the rate, not the document, were refused: as for REST
    except APIError as refused:
        if not refused.errors or not 400 <= refused.status < 500:
            raise
        # A 4xx carrying GraphQL errors (GRAPHQL_VALIDATION: bad syntax, an unknown field).
        error = graphql_error(refused.status, refused.errors, None, refused.response)
        error.earlier_attempt_lost = refused.earlier_attempt_lost
        raise error from None
    body = decode_json(reply, call)
    if not _ANSWER.accepts(body):
        raise wrong_shape(call, _ANSWER, "no content" if body is None else shape_of(body),
                          reply, reply.status_code, what="the body")
    data = body.get("data")
    errors = body.get("errors")
    if errors:
        raise graphql_error(reply.status_code, errors, data, reply)
    if not isinstance(data, dict):
        raise wrong_shape(call, OBJECT, shape_of(data), reply, reply.status_code,
                          what="the body's data")
    return data
