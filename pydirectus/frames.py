"""Arrow tables (and pandas and polars DataFrames) straight from a query's pages.

``q.to_arrow()``, ``q.to_pandas()`` and ``q.to_polars()`` read the query's pages through
the one read path (keyset paging, the server's cap, the next page fetched ahead) and turn
each page into an Arrow record batch as it arrives: no more than a page of rows is held
as dicts. The schema comes first, from the collection's field types
(``pydirectus.core.columns``), so every page gets the same column types, whatever
its values:

=====================  ========================================================
Directus type          Arrow type
=====================  ========================================================
integer, bigInteger    int64 (PostgreSQL's bigint text included)
float                  float64
decimal                decimal128(precision, scale) of the field; (38, 9) when the
                       token may not read ``/fields`` (a value with more decimal
                       places than that raises UsageError)
boolean                bool (SQLite's and MariaDB's 1/0 too)
date                   date32
dateTime               timestamp[us], no time zone (Directus stores wall-clock time)
timestamp              timestamp[us, tz=UTC]
time                   time64[us]
csv                    list<string>
json, to-many values   string: the value as compact JSON text
string, text, uuid,    string (a value that is not text, such as an unknown
hash, anything else    relation's key or a geometry, as JSON text)
=====================  ========================================================

pyarrow (and pandas, polars) are optional: each is imported on first use, and a missing
one raises UsageError naming the pip command, before any request is sent.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from decimal import Decimal
from operator import itemgetter
from typing import Any

from .core.columns import WHOLE, Column
from .core.plans import Plan, Runner
from .encoding import compact_json
from .errors import UsageError
from .extras import require
from .values import typed_value

__all__ = ["DTYPE_BACKENDS", "Convert", "arrow_schema", "iter_batches", "read_table",
           "record_batch", "to_arrow", "to_pandas", "to_polars"]

#: pandas' own names for the dtypes a DataFrame may use (as pd.read_parquet takes them)
DTYPE_BACKENDS = (None, "numpy_nullable", "pyarrow")
#: a decimal's (precision, scale) when the field's are not known
UNKNOWN_DECIMAL = (38, 9)

#: turns the finished Arrow table into what the caller asked for
Convert = Callable[[Any], Any]


# Converters: each makes what the caller asked for of the finished table. Made (and the
# library imported) before the first request, so a missing extra costs no request.

def to_arrow() -> Convert:
    """Return the converter of a to_arrow() read (the table itself)."""
    require("pyarrow")
    return lambda table: table


def to_pandas(dtype_backend: str | None = None) -> Convert:
    """Return the converter of a to_pandas() read (dtypes as ``dtype_backend`` says)."""
    if dtype_backend not in DTYPE_BACKENDS:
        raise UsageError(f"dtype_backend: expected None, 'numpy_nullable' or 'pyarrow', "
                         f"got {dtype_backend!r}")
    require("pyarrow")
    pd = require("pandas")

    def convert(table: Any) -> Any:
        mapper = None
        if dtype_backend == "pyarrow":
            mapper = pd.ArrowDtype
        elif dtype_backend == "numpy_nullable":
            mapper = _nullable_dtypes(pd).get
        # self_destruct: each column's Arrow buffers are freed as soon as it is converted,
        # so the table and the DataFrame are not both held whole.
        return table.to_pandas(types_mapper=mapper, split_blocks=True, self_destruct=True)

    return convert


def _nullable_dtypes(pd: Any) -> dict[Any, Any]:
    pa = require("pyarrow")
    return {pa.int64(): pd.Int64Dtype(), pa.float64(): pd.Float64Dtype(),
            pa.bool_(): pd.BooleanDtype(), pa.string(): pd.StringDtype()}


def to_polars() -> Convert:
    """Return the converter of a to_polars() read."""
    require("pyarrow")
    pl = require("polars")
    return lambda table: pl.from_arrow(table, rechunk=False)


# The schema.

def arrow_type(column: Column) -> Any:
    """Return the Arrow type of a column (see the module docstring)."""
    pa = require("pyarrow")
    kind = column.kind
    if kind in ("integer", "bigInteger"):
        return pa.int64()
    if kind == "float":
        return pa.float64()
    if kind == "decimal":
        precision = column.precision or UNKNOWN_DECIMAL[0]
        scale = (column.scale if column.scale is not None
                 else 0 if column.precision else UNKNOWN_DECIMAL[1])
        return (pa.decimal128 if precision <= 38 else pa.decimal256)(precision, scale)
    if kind == "boolean":
        return pa.bool_()
    if kind == "date":
        return pa.date32()
    if kind == "dateTime":
        return pa.timestamp("us")
    if kind == "timestamp":
        return pa.timestamp("us", tz="UTC")
    if kind == "time":
        return pa.time64("us")
    if kind == "csv":
        return pa.list_(pa.string())
    return pa.string()


def arrow_schema(columns: Sequence[Column]) -> Any:
    """Return the Arrow schema of a table's columns (each field keeps its Directus type)."""
    pa = require("pyarrow")
    return pa.schema([pa.field(c.name, arrow_type(c), metadata={
        "directus_type": c.kind or "unknown"}) for c in columns])


# Rows to columns.

def _at(row: Any, path: tuple[str, ...]) -> Any:
    value = row
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _values(rows: list[dict[str, Any]], column: Column) -> list[Any]:
    """Return a column's values down a page's rows (None where a row lacks it)."""
    if len(column.path) == 1:
        try:
            return list(map(itemgetter(column.path[0]), rows))  # at C speed
        except KeyError:
            return [row.get(column.path[0]) for row in rows]
    return [_at(row, column.path) for row in rows]


def _json_text(values: list[Any]) -> list[Any]:
    return [None if v is None else compact_json(v) for v in values]


def _text(values: list[Any]) -> list[Any]:
    return [v if v is None or isinstance(v, str) else compact_json(v) for v in values]


def _truth(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str) and value.lower() in ("1", "true", "0", "false"):
        return value.lower() in ("1", "true")
    raise ValueError(f"{value!r} is not a boolean")


def _parse_datetime(value: str, aware: bool) -> dt.datetime:
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T", 1))
    if moment.tzinfo is None:
        # A timestamp without an offset is UTC (what Directus stores); a dateTime is kept
        # as the wall-clock time it says.
        return moment.replace(tzinfo=dt.timezone.utc) if aware else moment
    moment = moment.astimezone(dt.timezone.utc)
    return moment if aware else moment.replace(tzinfo=None)


def _slow(values: list[Any], column: Column) -> list[Any]:
    """Return the values in the Python type the column's Arrow type takes, one by one."""
    kind = column.kind
    present = [(i, v) for i, v in enumerate(values) if v is not None]
    out: list[Any] = list(values)
    for index, value in present:
        if kind in ("integer", "bigInteger", "float", "decimal"):
            converted = typed_value(kind, value)
            if kind == "decimal" and isinstance(converted, int | float):
                converted = Decimal(repr(converted))
            if isinstance(converted, str):
                raise ValueError(f"{value!r} is not a number")
        elif kind == "boolean":
            converted = _truth(value)
        elif kind == "date":
            converted = dt.date.fromisoformat(str(value)[:10])
        elif kind in ("dateTime", "timestamp"):
            converted = _parse_datetime(str(value), kind == "timestamp")
        elif kind == "time":
            converted = dt.time.fromisoformat(str(value))
        elif kind == "csv":
            converted = value.split(",") if isinstance(value, str) else [
                v if isinstance(v, str) else compact_json(v).decode() for v in value]
        else:
            converted = value if isinstance(value, str) else compact_json(value)
        out[index] = converted
    return out


def _array(values: list[Any], column: Column, kind: Any) -> Any:
    """Return a column's Arrow array: from the values at C speed where they already have
    the column's type (the usual case), else converted one by one."""
    pa = require("pyarrow")
    if column.kind == WHOLE or column.kind == "json":
        return pa.array(_json_text(values), pa.string())
    try:
        if column.kind in ("date", "dateTime", "timestamp"):
            return pa.array(values, pa.string()).cast(kind)
        if column.kind == "time":
            pc = require("pyarrow.compute")
            text = pc.binary_join_element_wise(pa.scalar("1970-01-01T"),
                                               pa.array(values, pa.string()), pa.scalar(""))
            return text.cast(pa.timestamp("us")).cast(kind)
        if column.kind == "boolean":
            return pa.array(values, pa.bool_())
        if column.kind == "csv":
            # pyarrow would read a text ("a,b") as a list of its characters.
            if all(v is None or type(v) is list for v in values):
                return pa.array(values, kind)
            raise TypeError("csv text")
        if column.kind not in ("integer", "bigInteger", "float", "decimal"):
            return pa.array(values, kind) if all(
                v is None or type(v) is str for v in values) else pa.array(_text(values), kind)
        return pa.array(values, kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass  # PostgreSQL's text numbers, 1/0 booleans, other spellings: one by one
    try:
        return pa.array(_slow(values, column), kind)
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise UsageError(f"column {column.name!r} (Directus type {column.kind}) cannot hold "
                         f"a value as {kind}: {exc}") from None


def record_batch(rows: list[dict[str, Any]], columns: Sequence[Column], schema: Any) -> Any:
    """Return one page's rows as an Arrow record batch of the schema, column by column."""
    pa = require("pyarrow")
    arrays = [_array(_values(rows, column), column, schema.field(index).type)
              for index, column in enumerate(columns)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


# Reading a table on either face.

def _sync_batches(items: Iterator[Any]) -> Iterator[Any]:
    # The first item of a table's stream is its columns (core.columns.frame_stream); then
    # a page at a time. The first page is always a batch (empty when nothing matches), so
    # a consumer gets the schema; an empty last page (the rows ended on a page boundary)
    # is not.
    with contextlib.closing(items):  # type: ignore[type-var]  # a generator
        columns = next(items)
        schema = arrow_schema(columns)
        first = True
        for rows in items:
            if rows or first:
                yield record_batch(rows, columns, schema)
            first = False


async def _async_batches(items: AsyncIterator[Any]) -> AsyncIterator[Any]:
    try:
        columns = await items.__anext__()
        schema = arrow_schema(columns)
        first = True
        async for rows in items:
            if rows or first:
                yield record_batch(rows, columns, schema)
            first = False
    finally:
        await items.aclose()  # type: ignore[attr-defined]  # an async generator


def _table(batches: list[Any]) -> Any:
    pa = require("pyarrow")
    return pa.Table.from_batches(batches, schema=batches[0].schema)


def iter_batches(runner: Runner, stream: Plan[None], prefetch: bool) -> Any:
    """Iterate a table's stream as Arrow record batches, one a page (``async for`` on the
    async face); the next page is fetched while this one is converted when prefetching."""
    require("pyarrow")
    items = runner.rows(stream, prefetch)
    return _sync_batches(items) if runner.blocking else _async_batches(items)


def read_table(runner: Runner, stream: Plan[None], prefetch: bool, convert: Convert) -> Any:
    """Read a table's stream; return the converted table (an awaitable on the async face)."""
    batches = iter_batches(runner, stream, prefetch)
    if runner.blocking:
        return convert(_table(list(batches)))

    async def read() -> Any:
        return convert(_table([batch async for batch in batches]))

    return read()
