"""Every public entry point refuses bad arguments with a pydirectus error, never a raw one.

The handles (introspected: every public method of every handle a client hands out), the
Query builder and the command line's parser are called with wrong types, None, NaN, huge
numbers and hostile strings. The client points at a closed port, so nothing can answer:
an argument must be refused before sending (a DirectusError, mostly UsageError), and a
call that does send must fail as a TransportError. Anything else (a TypeError, a
KeyError, a UnicodeDecodeError) is a bug in an argument check.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import math
import os
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pydirectus import DirectusClient, RetryPolicy, StaticToken
from pydirectus.aio import AsyncDirectusClient
from pydirectus.cli import build_parser, main
from pydirectus.errors import DirectusError
from pydirectus.query import Q, Query
from pydirectus.system.registry import SYSTEM_HANDLES
from tests.faults import closed_port

UUID = "8cbb43fe-4cdf-4991-8352-c461779cec02"

#: a plausible value per parameter name, so that each call is refused for the one bad
#: argument under test (or sent, and refused by the closed port)
PLAUSIBLE: dict[str, Any] = {
    "collection": "articles", "name": "articles", "field": "title", "pk": 1, "key": 1,
    "id": UUID, "flow_id": UUID, "user": UUID, "role": UUID, "revision": 1,
    "data": {"title": "x"}, "items": [{"title": "x"}], "keys": [1], "delta": {"title": "x"},
    "meta": {"note": "x"}, "spec": {"collection": "c", "field": "f"}, "email": "a@b.c",
    "password": "secret", "token": "t", "otp": "123456", "secret": "s", "main_hash": "h",
    "query": {"limit": 1}, "snapshot": {"version": 1}, "diff": {"hash": "h", "diff": {}},
    "method": "GET", "path": "custom/route", "url": "https://example.com/a.png",
    "source": b"bytes", "destination": "out.bin", "extension": "ext", "target": None,
    "batches": {"articles": [{"title": "x"}]}, "item": 1, "to": 2, "length": 8,
    "folder": "media", "filename": "a.txt", "bookmark": "b", "layout": "tabular",
    "invite_url": "https://example.com", "file_data": {"title": "x"},
}

#: what a fuzzer throws at one argument
HOSTILE: list[Any] = [
    None, math.nan, math.inf, -math.inf, 10**100, -(10**100), -1, 0, True, 1.5, "", " ",
    "\x00", "a\x00b", "..", "../../etc/passwd", "x" * 5000, "\ud800", "é" * 300, b"\xff\xfe",
    [], [None], [[]], {}, {"a": math.nan}, {1: 2}, {"": None}, object(), (1,), {"x"},
    iter([1, 2]), Q(), Query(), 1j,
]

#: methods that end the client or only read an attribute (fuzzed elsewhere or harmless)
SKIPPED = frozenset({"close", "logout"})


def _client() -> DirectusClient:
    return DirectusClient(f"http://127.0.0.1:{closed_port()}", auth=StaticToken("t"),
                          retry=RetryPolicy(attempts=1), timeout=(2, 2))


def _handles(client: DirectusClient) -> Iterator[tuple[str, Any]]:
    articles = client.collection("articles", pk="id", singleton=False)
    yield "collection", articles
    yield "query", articles.filter(title="x")
    yield "singleton", client.singleton("home")
    yield "client", client
    yield "server", client.server
    yield "files", client.files
    yield "folders", client.folders
    for row in SYSTEM_HANDLES:
        yield row.attribute, getattr(client, row.attribute)


def _methods(handle: Any) -> list[tuple[str, inspect.Signature]]:
    found = []
    for name in dir(type(handle)):
        if name.startswith("_") or name in SKIPPED:
            continue
        member = getattr(type(handle), name, None)
        if not callable(member) or isinstance(member, type):
            continue
        bound = getattr(handle, name)
        with contextlib.suppress(TypeError, ValueError):
            found.append((name, inspect.signature(bound)))
    return found


def _call(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> None:
    """Call and drain a lazy result; raise anything that is not a pydirectus error."""
    try:
        result = function(*args, **kwargs)
        if isinstance(result, Iterator):
            next(result, None)
    except DirectusError:
        return


def _arguments(signature: inspect.Signature, target: str | None, value: Any
               ) -> tuple[list[Any], dict[str, Any]]:
    """Plausible arguments for every required parameter, `value` for the one named."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in signature.parameters.values():
        hostile = param.name == target
        if param.kind is param.VAR_POSITIONAL:
            if hostile:
                args.append(value)
            continue
        if param.kind is param.VAR_KEYWORD:
            if hostile:
                kwargs["title"] = value
            continue
        if not hostile and param.default is not param.empty:
            continue
        chosen = value if hostile else PLAUSIBLE.get(param.name, "x")
        if param.kind is param.KEYWORD_ONLY or param.default is not param.empty:
            if param.kind is param.POSITIONAL_ONLY:
                args.append(chosen)
            else:
                kwargs[param.name] = chosen
        else:
            args.append(chosen)
    return args, kwargs


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DirectusClient]:
    monkeypatch.chdir(tmp_path)  # a download that got through would land here
    with _client() as made:
        yield made


def _targets() -> list[tuple[str, str]]:
    # One call per function: the system handles share most of Collection's methods.
    targets: dict[str, tuple[str, str]] = {}
    with _client() as client:
        for handle, obj in _handles(client):
            for method, _ in _methods(obj):
                function = getattr(getattr(obj, method), "__func__", None)
                key = function.__qualname__ if function is not None else f"{handle}.{method}"
                targets.setdefault(key, (handle, method))
    return list(targets.values())


TARGETS = _targets()


def _resolve(client: DirectusClient, handle: str, method: str) -> tuple[Any, inspect.Signature]:
    obj = dict(_handles(client))[handle]
    return getattr(obj, method), inspect.signature(getattr(obj, method))


@pytest.mark.parametrize(("handle", "method"), TARGETS, ids=[f"{h}.{m}" for h, m in TARGETS])
def test_every_argument_of_every_handle_method_is_checked(
    client: DirectusClient, handle: str, method: str,
) -> None:
    function, signature = _resolve(client, handle, method)
    for name in [None, *signature.parameters]:
        for value in HOSTILE if name is not None else [None]:
            args, kwargs = _arguments(signature, name, value)
            try:
                _call(function, args, kwargs)
            except Exception as raw:
                raise AssertionError(
                    f"{handle}.{method}({name}={value!r:.60}) raised {type(raw).__name__}: "
                    f"{raw!s:.200}") from raw


#: what the async face's sweep throws at each argument (the checks are the same code)
ASYNC_HOSTILE = [None, math.nan, 10**100, "", "\x00", "\ud800", "x" * 5000, [], {}, object()]


@pytest.mark.parametrize(("handle", "method"), TARGETS, ids=[f"{h}.{m}" for h, m in TARGETS])
def test_the_async_face_checks_every_argument_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, handle: str, method: str,
) -> None:
    monkeypatch.chdir(tmp_path)

    async def scenario() -> None:
        async with AsyncDirectusClient(f"http://127.0.0.1:{closed_port()}",
                                       auth=StaticToken("t"), retry=RetryPolicy(attempts=1),
                                       timeout=(2, 2)) as client:
            function = getattr(dict(_handles(client))[handle], method)
            signature = inspect.signature(function)
            for name in [None, *signature.parameters]:
                for value in ASYNC_HOSTILE if name is not None else [None]:
                    args, kwargs = _arguments(signature, name, value)
                    try:
                        result = function(*args, **kwargs)
                        if inspect.isawaitable(result):
                            await result
                        elif isinstance(result, AsyncIterator):
                            await anext(result, None)
                    except DirectusError:
                        continue
                    except Exception as raw:
                        raise AssertionError(
                            f"async {handle}.{method}({name}={value!r:.60}) raised "
                            f"{type(raw).__name__}: {raw!s:.200}") from raw

    asyncio.run(scenario())


def test_the_sweep_reaches_every_handle() -> None:
    methods = {f"{handle}.{method}" for handle, method in TARGETS}
    assert {"client.request", "collection.create_many", "query.update", "files.download",
            "users.me", "flows.trigger", "schema.apply", "utils.import_file"} <= methods
    assert len(TARGETS) > 100


# Random combinations: several bad arguments at once, on a random method.

hostile = st.sampled_from(HOSTILE) | st.text(max_size=40) | st.integers() | st.floats() | (
    st.lists(st.text(max_size=5) | st.integers() | st.none(), max_size=4)) | st.dictionaries(
    st.text(max_size=5), st.none() | st.floats() | st.text(max_size=5), max_size=3)


@given(target=st.sampled_from(TARGETS), data=st.data())
def test_random_bad_arguments_raise_only_pydirectus_errors(
    target: tuple[str, str], data: st.DataObject,
) -> None:
    handle, method = target
    with _client() as client:
        function, signature = _resolve(client, handle, method)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for param in signature.parameters.values():
            if param.kind is param.VAR_KEYWORD:
                kwargs.update(data.draw(st.dictionaries(
                    st.sampled_from(["title", "pk", "x__in", "a__b__gt"]), hostile, max_size=2)))
            elif param.kind is param.VAR_POSITIONAL:
                args.extend(data.draw(st.lists(hostile, max_size=2)))
            elif param.default is param.empty or data.draw(st.booleans()):
                value = data.draw(hostile | st.just(PLAUSIBLE.get(param.name, "x")))
                if param.kind is param.KEYWORD_ONLY:
                    kwargs[param.name] = value
                elif param.kind is param.POSITIONAL_ONLY or not kwargs:
                    if param.default is not param.empty and len(args) < list(
                            signature.parameters).index(param.name):
                        kwargs[param.name] = value
                    else:
                        args.append(value)
                else:
                    kwargs[param.name] = value
        cwd = os.getcwd()
        try:
            _call(function, args, kwargs)
        finally:
            os.chdir(cwd)


# The Query builder.

QUERY_METHODS = [name for name in dir(Query) if not name.startswith("_")
                 and callable(getattr(Query, name))]


@pytest.mark.parametrize("method", QUERY_METHODS)
def test_every_query_method_checks_its_arguments(method: str) -> None:
    function = getattr(Query(), method)
    signature = inspect.signature(function)
    for name in [None, *signature.parameters]:
        for value in HOSTILE if name is not None else [None]:
            args, kwargs = _arguments(signature, name, value)
            try:
                _call(function, args, kwargs)
            except Exception as raw:
                raise AssertionError(f"Query.{method}({name}={value!r:.60}) raised "
                                     f"{type(raw).__name__}: {raw!s:.200}") from raw


@given(method=st.sampled_from(QUERY_METHODS), values=st.lists(hostile, max_size=3))
def test_random_query_calls_raise_only_pydirectus_errors(method: str, values: list[Any]) -> None:
    function = getattr(Query(), method)
    try:
        inspect.signature(function).bind(*values)
    except TypeError:
        assume(False)  # a call Python itself refuses (too many or too few arguments)
    _call(function, values, {})


# The command line: argv of the real commands and options, with hostile values.

def _cli_options() -> dict[tuple[str, ...], list[str]]:
    """Return the option strings of every command (and action) of the parser."""
    found: dict[tuple[str, ...], list[str]] = {}

    def walk(parser: Any, path: tuple[str, ...]) -> None:
        options: list[str] = []
        for action in parser._actions:
            choices = getattr(action, "choices", None)
            if action.option_strings:
                options.extend(o for o in action.option_strings if o not in ("-h", "--help"))
            elif isinstance(choices, dict):
                for name, sub in choices.items():
                    walk(sub, (*path, name))
        if path:
            found[path] = options

    walk(build_parser(), ())
    return found


CLI = _cli_options()
COMMANDS = sorted(path for path in CLI if path[0] != "files" or len(path) == 2)
cli_value = st.sampled_from(["--", "-", "-x", "", "\x00", "x" * 5000, "nan", "1e999", "-1",
                             "99999999999999999999", "{", "[1,", "a=b", "views__gtt=1",
                             "title=", "../../x", "é", "\udcff"]) | st.text(max_size=20)


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIRECTUS_URL", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv("DIRECTUS_TOKEN", "t")
    monkeypatch.setenv("DIRECTUS_PASSWORD", "p")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    (tmp_path / "rows.jsonl").write_bytes(os.urandom(64))
    return tmp_path


def _run_cli(argv: list[str], errors: list[BaseException]) -> None:
    try:
        main(argv)
    except SystemExit as stopped:
        assert stopped.code in (0, 1, 2), stopped.code
    for raw in errors:
        if not isinstance(raw, DirectusError | OSError):
            raise AssertionError(f"pydirectus {' '.join(argv)!r:.200}: "
                                 f"{type(raw).__name__}: {raw}") from raw


@pytest.fixture
def reported(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Collect what the command line reports as its one-line error."""
    import pydirectus.cli as cli

    seen: list[BaseException] = []
    original = cli.report_error

    def record(prog: str, exc: BaseException) -> None:
        seen.append(exc)
        original(prog, exc)

    monkeypatch.setattr(cli, "report_error", record)
    return seen


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(COMMANDS), data=st.data())
def test_the_command_line_refuses_bad_arguments_cleanly(
    cli_env: Path, reported: list[BaseException], command: tuple[str, ...],
    data: st.DataObject, capsys: pytest.CaptureFixture[str],
) -> None:
    argv = list(command)
    argv += data.draw(st.lists(cli_value, max_size=2))
    for option in data.draw(st.lists(st.sampled_from(CLI[command] or ["--debug"]),
                                     max_size=3)):
        if option == "--debug":
            continue  # a traceback on purpose
        argv += [option, data.draw(cli_value)]
    reported.clear()
    _run_cli(argv, reported)
    capsys.readouterr()


def test_the_cited_command_lines_are_refused_cleanly(
    cli_env: Path, reported: list[BaseException], capsys: pytest.CaptureFixture[str],
) -> None:
    (cli_env / "latin1.jsonl").write_bytes(b'{"title": "a"}\n{"title": "caf\xe9"}\n')
    expected = {
        ("query", "C", "--sort", "--"): (2, "--sort: expected one argument"),
        ("query", "C", "--sort=--"): (2, "--sort: expected a value, got '--'"),
        ("query", "C", "--limit", "1e999"): (2, "invalid int value"),
        ("export", "C", "-o", "x" * 5000): (2, "is too long for a path"),
        ("files", "download", "ID", "-o", "a\x00b"): (2, "holds a NUL character"),
        ("import", "C", "latin1.jsonl"): (
            1, "latin1.jsonl: line 2, column 15: byte 0xe9 is not UTF-8 text"),
        ("import", "C", "rows.jsonl"): (1, "is not UTF-8 text"),
    }
    for argv, (status, message) in expected.items():
        reported.clear()
        code: Any
        try:
            code = main(list(argv))
        except SystemExit as stopped:
            code = stopped.code
        err = capsys.readouterr().err
        assert code == status, (argv, code, err)
        assert message in err and len(err.strip().splitlines()) == 1, (argv, err)
        assert all(isinstance(raw, DirectusError) for raw in reported), reported
