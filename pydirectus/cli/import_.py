"""`pydirectus import`: load a JSONL, CSV or JSON file into a collection, in batches.

Rows go out with ``create_many`` (or, with ``--upsert-on``, ``update_batch`` for rows
whose value of that field exists and ``create_many`` for the rest). Directus writes a
batch in one transaction, so a batch that fails is split in halves until the failing rows
stand alone: those are refused, with Directus's reason, and every other row lands. After
--max-refusals refused rows (100) the import stops: a file refused as a whole costs about
two requests per refused row up to that bound, not per row of the file.

Alias fields (o2m, m2m, m2a, from ``export --with-relations``) are refused before their row
is sent, naming them; ``--with-relations`` sends them as Directus's nested relational
writes instead (the related items must exist).

The report (``--report FILE``, JSON Lines) records each batch before it is sent (in
flight, written to disk first), each written range of rows and each refused row;
``--resume`` skips the rows a report says were written and first finds out whether the
batch in flight when the import stopped (killed, Ctrl-C, a lost connection) landed, so no
row is written twice or lost; where that cannot be told it stops and names the rows.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import itertools
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from .aliases import FieldRows
from .common import (
    CommandError,
    add_command,
    bad_argument,
    connect,
    describe,
    fail,
    path_argument,
)

if TYPE_CHECKING:
    from ..collection import Collection
    from ..errors import APIError

EXAMPLES = """
pydirectus import articles articles.jsonl
pydirectus import articles articles.csv --batch-size 200 --report import.log
pydirectus import articles articles.csv --report import.log --resume   # after a stop
pydirectus import products products.jsonl --upsert-on sku
"""

IMPORT_FORMATS = ("jsonl", "csv", "json")
DEFAULT_BATCH = 500
# Refused rows after which the import stops: a file the collection refuses as a whole (a
# missing foreign key in every row) would otherwise be bisected down to every single row,
# about two requests a row.
DEFAULT_MAX_REFUSALS = 100
# Refusals listed on stderr; the report has all of them.
SHOWN_REFUSALS = 10

Row = tuple[int, dict[str, Any]]


def add_parser(subparsers: Any) -> None:
    """Add the `import` command."""
    parser = add_command(subparsers, "import", "load rows from a file into a collection",
                         EXAMPLES, description=__doc__.split("\n\n", 1)[1].strip()
                         if __doc__ else None)
    parser.add_argument("collection", help="the collection to write to")
    parser.add_argument("file", type=path_argument, metavar="FILE",
                        help="a .jsonl, .csv or .json file ('-': stdin)")
    parser.add_argument("--format", choices=IMPORT_FORMATS,
                        help="jsonl, csv or json (default: from FILE's extension)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, metavar="N",
                        help=f"rows per request (default {DEFAULT_BATCH})")
    parser.add_argument("--upsert-on", metavar="FIELD",
                        help="update the item whose FIELD equals the row's, create it if none")
    parser.add_argument("--report", type=path_argument, metavar="FILE",
                        help="append what was written and refused to FILE (JSON Lines)")
    parser.add_argument("--resume", action="store_true",
                        help="skip the rows --report says were written already, after "
                             "finding out whether the batch in flight when it stopped landed")
    parser.add_argument("--in-flight", choices=("check", "landed", "resend"), default="check",
                        help="with --resume, when whether that batch landed cannot be told: "
                             "stop and name its rows (check, the default), or assume it "
                             "landed, or send it again")
    parser.add_argument("--max-refusals", type=int, default=DEFAULT_MAX_REFUSALS, metavar="N",
                        help="stop once N rows were refused (default "
                             f"{DEFAULT_MAX_REFUSALS}): a file refused as a whole stops "
                             "after a bounded number of requests")
    parser.add_argument("--with-relations", action="store_true",
                        help="send alias fields (o2m, m2m, m2a) as Directus's nested "
                             "relational writes (the related items must exist) instead of "
                             "refusing the file")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    parser.set_defaults(run=run)


@attrs.define
class Outcome:
    """What an import did: rows written (created or updated) and refused, with reasons."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    refused: list[tuple[int, str]] = attrs.field(factory=list)
    # Why the import stopped before the end of the file (None: it did not).
    stopped: str | None = None


class Report:
    """The JSON Lines report: written ranges and refused rows, appended as they happen."""

    def __init__(self, handle: TextIO | None) -> None:
        self.handle = handle

    def written(self, numbers: Sequence[int], action: str) -> None:
        """Record rows as written, as ranges of consecutive row numbers."""
        if self.handle is None:
            return
        for _, group in itertools.groupby(enumerate(sorted(numbers)), lambda p: p[1] - p[0]):
            run = [n for _, n in group]
            self._write({"status": "written", "action": action, "rows": [run[0], run[-1]]})

    def refused(self, number: int, code: str | None, reason: str) -> None:
        """Record one refused row and why."""
        self._write({"status": "refused", "row": number, "code": code, "reason": reason})

    def in_flight(self, numbers: Sequence[int], action: str, **identity: Any) -> None:
        """Record a batch about to be sent and what identifies its rows, on disk first."""
        from .resume import ranges

        entry = {"status": "in_flight", "action": action, "rows": ranges(numbers),
                 **{k: v for k, v in identity.items() if v is not None}}
        # On disk before the request leaves: a kill right after sending still finds it.
        self._write(entry, durable=True)

    def not_landed(self, numbers: Sequence[int]) -> None:
        """Record rows of a batch in flight that did not land (they are sent again)."""
        from .resume import ranges

        for first, last in ranges(numbers):
            self._write({"status": "not_landed", "rows": [first, last]})

    def _write(self, entry: dict[str, Any], durable: bool = False) -> None:
        if self.handle is not None:
            self.handle.write(json.dumps(entry, default=str) + "\n")
            self.handle.flush()
            if durable:
                os.fsync(self.handle.fileno())


class RowSet:
    """Row numbers held as sorted ranges: a report of millions of rows stays small."""

    def __init__(self, ranges: Iterable[tuple[int, int]] = ()) -> None:
        merged: list[list[int]] = []
        for first, last in sorted(ranges):
            if merged and first <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], last)
            else:
                merged.append([first, last])
        self._firsts = [first for first, _ in merged]
        self._lasts = [last for _, last in merged]

    def __contains__(self, number: object) -> bool:
        if not isinstance(number, int):
            return False
        index = bisect.bisect_right(self._firsts, number) - 1
        return index >= 0 and number <= self._lasts[index]

    def __len__(self) -> int:
        return sum(last - first + 1 for first, last in zip(self._firsts, self._lasts,
                                                            strict=True))

    def union(self, numbers: Iterable[int]) -> RowSet:
        """Return these rows and the given ones."""
        return RowSet([*zip(self._firsts, self._lasts, strict=True),
                       *((n, n) for n in numbers)])


def written_rows(path: str) -> RowSet:
    """Return the row numbers a report says were written."""
    ranges: list[tuple[int, int]] = []
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if line.strip():
                    found = _written_range(path, number, line)
                    if found is not None:
                        ranges.append(found)
    except FileNotFoundError:
        pass  # a first run: nothing written yet
    return RowSet(ranges)


def _written_range(path: str, number: int, line: str) -> tuple[int, int] | None:
    try:
        entry = json.loads(line)
        if entry.get("status") != "written":
            return None
        first, last = entry["rows"]
        return int(first), int(last)
    except (ValueError, KeyError, TypeError, AttributeError):
        fail(f"{path}: line {number} is not a report entry; is it an import report?")


def _reason(error: APIError) -> str:
    text = error.message
    if error.reason and error.reason not in text:
        text += f" ({error.reason})"
    return " ".join(text.split())


def run(args: argparse.Namespace) -> int:
    """Stream the file's rows into the collection; summarise on stderr."""
    from ..checks import check_positive_int
    from ..errors import DirectusError
    from .output import format_for_path
    from .progress import Progress
    from .readers import CsvCaster, read_rows

    check_positive_int(args.batch_size, "--batch-size")
    check_positive_int(args.max_refusals, "--max-refusals")
    if args.resume and not args.report:
        bad_argument("--resume needs --report FILE: the report says which rows were written")
    fmt = format_for_path(args.file, args.format or ("jsonl" if args.file == "-" else None),
                          IMPORT_FORMATS)
    if args.report:
        from .resume import cut_unfinished_line

        cut_unfinished_line(args.report)
    done = written_rows(args.report) if args.resume else RowSet()
    with contextlib.ExitStack() as stack:
        # Bytes that are not UTF-8 are read as escapes, which read_rows reports by line.
        stdin: Any = sys.stdin
        if args.file == "-" and callable(getattr(stdin, "reconfigure", None)):
            stdin.reconfigure(errors="surrogateescape")
        source = sys.stdin if args.file == "-" else stack.enter_context(
            open(args.file, encoding="utf-8", errors="surrogateescape", newline=""))
        report = Report(stack.enter_context(open(args.report, "a", encoding="utf-8"))
                        if args.report else None)
        client = stack.enter_context(connect(args))
        handle = client.collection(args.collection)
        fields = FieldRows(client, args.collection)
        cast = CsvCaster(_field_types(fields)) if fmt == "csv" else None
        rows: Iterable[dict[str, Any]] = _columns_only(
            fields, args, read_rows(source, fmt, args.file, cast))
        if args.resume:
            done, rows = _settle_in_flight(
                args, handle, report, done, source, rows,
                lambda: _columns_only(fields, args, read_rows(source, fmt, args.file, cast)))
        writer = _Writer(fields, handle, report, args.upsert_on, args.max_refusals)
        if args.report:
            writer.track_in_flight()
        progress = stack.enter_context(Progress(f"import {args.collection}",
                                                enabled=not args.quiet))
        try:
            for batch in _batches(rows, done, args.batch_size, args.upsert_on,
                                  writer.outcome):
                writer.write(batch)
                progress.update(len(batch))
                if writer.outcome.stopped:
                    break
        except CommandError:
            raise  # a bad row in the file: its own message, not "stopped after writing"
        except DirectusError as stopped:
            # Not a row's fault (no permission, a bad token, the server gone): say how far
            # it got, so that the user knows what --resume will do.
            outcome = writer.outcome
            resume = f"; --resume with --report {args.report} continues" if args.report else ""
            raise CommandError(f"{describe(stopped)}; stopped after writing "
                               f"{outcome.created + outcome.updated} rows{resume}") from stopped
    return _summary(args, writer.outcome)


def _settle_in_flight(args: argparse.Namespace, handle: Collection[dict[str, Any]],
                      report: Report, done: RowSet, source: TextIO,
                      rows: Iterable[dict[str, Any]],
                      reread: Callable[[], Iterable[dict[str, Any]]]
                      ) -> tuple[RowSet, Iterable[dict[str, Any]]]:
    """Settle the batches the report left in flight before sending anything; return the rows
    now done and the file's rows from the start."""
    from .resume import pick, read_in_flight, rows_wanted, settle

    flights = read_in_flight(args.report)
    if not flights:
        return done, rows
    wanted = rows_wanted(flights)
    if wanted and source.seekable():
        found = pick(iter(rows), wanted)
        source.seek(0)
        rows = reread()
    elif wanted:
        # stdin: keep what was read to go on from the start (up to the last row in flight).
        seen: list[dict[str, Any]] = []
        iterator = iter(rows)
        found = pick(_kept(iterator, seen), wanted)
        rows = itertools.chain(seen, iterator)
    else:
        found = {}
    settled = settle(handle, flights, found, report, args.in_flight)
    return done.union(settled.landed), rows


def _kept(rows: Iterator[dict[str, Any]], seen: list[dict[str, Any]]
          ) -> Iterator[dict[str, Any]]:
    for row in rows:
        seen.append(row)
        yield row


def _field_types(fields: FieldRows) -> dict[str, str]:
    # CSV cells are text; the field types (when this token may read them) say what to send.
    return {f["field"]: str(f.get("type")) for f in fields.get() or ()}


def _columns_only(fields: FieldRows, args: argparse.Namespace,
                  rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    # Alias fields (an export --with-relations) are refused before their row is sent. The
    # check's GET /fields waits for the first batch to be read: a file bad from its start
    # is refused before anything reaches the server, as it was without the check.
    from .aliases import check_no_aliases, field_kinds

    if args.with_relations:
        yield from rows
        return
    pending = iter(rows)
    first = list(itertools.islice(pending, args.batch_size))
    kinds = field_kinds(fields)
    every = itertools.chain(first, pending)
    if kinds is None or not kinds.aliases:
        yield from every
    else:
        yield from check_no_aliases(every, kinds, args.file)


def _batches(rows: Iterable[dict[str, Any]], done: RowSet, size: int,
             upsert_on: str | None, outcome: Outcome) -> Iterator[list[Row]]:
    batch: list[Row] = []
    keys: set[str] = set()
    for number, row in enumerate(rows, 1):
        if number in done:
            outcome.skipped += 1
            continue
        key = json.dumps(row.get(upsert_on), sort_keys=True) if upsert_on else ""
        # Two rows for one key in one batch would both be created: the second waits.
        if len(batch) >= size or (upsert_on and key in keys):
            yield batch
            batch, keys = [], set()
        batch.append((number, row))
        keys.add(key)
    if batch:
        yield batch


class _Writer:
    def __init__(self, fields: FieldRows, handle: Collection[dict[str, Any]],
                 report: Report, upsert_on: str | None,
                 max_refusals: int = DEFAULT_MAX_REFUSALS) -> None:
        self.fields = fields
        self.handle = handle
        self.report = report
        self.upsert_on = upsert_on
        self.max_refusals = max_refusals
        self.outcome = Outcome()
        self._primary_key: str | None = None
        self._tracking = False
        # Items in the collection before the next batch (None: not known), kept for the
        # in-flight record from one count at the start and each batch created since.
        self._items_before: int | None = None

    def track_in_flight(self) -> None:
        """Record each batch in the report before sending it (one count read first)."""
        from ..errors import PermissionDenied

        self._tracking = True
        if self.upsert_on is None:
            try:
                self._items_before = self.handle.count()
            except PermissionDenied:
                self._items_before = None  # a create-only token: rows with keys still settle

    def _record_in_flight(self, rows: list[Row], action: str) -> None:
        if not self._tracking:
            return
        if self.upsert_on is not None:
            self.report.in_flight([n for n, _ in rows], action, upsert_on=self.upsert_on)
            return
        pk = self.primary_key()
        keys = [row.get(pk) for _, row in rows]
        carried = all(key is not None for key in keys)
        self.report.in_flight([n for n, _ in rows], action, size=len(rows),
                              primary_key=pk if carried else None,
                              keys=keys if carried else None,
                              count_before=self._items_before)

    def _landed(self, rows: list[Row], action: str) -> None:
        if action == "created" and self._items_before is not None:
            self._items_before += len(rows)

    def write(self, batch: list[Row]) -> None:
        if self.upsert_on is None:
            self._send(batch, self._create, "created")
            return
        field = self.upsert_on
        missing = [(n, row) for n, row in batch if row.get(field) is None]
        for number, _ in missing:
            self._refuse(number, None, f"no value for --upsert-on {field}")
        present = [(n, row) for n, row in batch if row.get(field) is not None]
        if not present or self.outcome.stopped:
            return
        pk = self.primary_key()
        existing = self._existing(field, pk, [row[field] for _, row in present])
        updates = [(n, {**row, pk: existing[_hashable(row[field])]}) for n, row in present
                   if _hashable(row[field]) in existing]
        creates = [(n, row) for n, row in present if _hashable(row[field]) not in existing]
        if updates:
            self._send(updates, self._update, "updated")
        if creates:
            self._send(creates, self._create, "created")

    def primary_key(self) -> str:
        if self._primary_key is None:
            keys = [f["field"] for f in self.fields.get() or ()
                    if (f.get("schema") or {}).get("is_primary_key")]
            # Without schema access, Directus's default is the best guess.
            self._primary_key = keys[0] if keys else "id"
        return self._primary_key

    def _existing(self, field: str, pk: str, values: list[Any]) -> dict[Any, Any]:
        found: dict[Any, Any] = {}
        query = self.handle.filter(**{f"{field}__in": values}).fields(*dict.fromkeys((pk, field)))
        for item in query:
            found[_hashable(item.get(field))] = item.get(pk)
        return found

    def _create(self, rows: list[dict[str, Any]]) -> None:
        self.handle.create_many(rows, batch_size=len(rows))

    def _update(self, rows: list[dict[str, Any]]) -> None:
        # Ask only for the key back: the answer to a big batch stays small.
        self.handle.update_batch(rows, batch_size=len(rows), fields=[self.primary_key()])

    def _refuse(self, number: int, code: str | None, reason: str) -> None:
        self.outcome.refused.append((number, f"{code}: {reason}" if code else reason))
        self.report.refused(number, code, reason)
        if len(self.outcome.refused) >= self.max_refusals and not self.outcome.stopped:
            # --max-refusals reached: nothing more is sent (bisection and the batch loop
            # both look at this), so a file Directus refuses whole costs a bounded count.
            self.outcome.stopped = (
                f"stopped at row {number} after {self.max_refusals} refused rows "
                f"(--max-refusals {self.max_refusals}); the rows after it were not sent")

    def _send(self, rows: list[Row], send: Callable[[list[dict[str, Any]]], None],
              action: str) -> None:
        from ..errors import APIError, BatchWriteError

        if self.outcome.stopped:
            return
        self._record_in_flight(rows, action)
        try:
            send([row for _, row in rows])
        except BatchWriteError as failed:
            cause = failed.cause
            if not isinstance(cause, APIError) or not _row_level(cause):
                raise cause from failed
            if len(rows) == 1:
                self._refuse(rows[0][0], cause.code or str(cause.status), _reason(cause))
                return
            middle = len(rows) // 2
            self._send(rows[:middle], send, action)
            self._send(rows[middle:], send, action)
            return
        except APIError as error:
            if len(rows) == 1 and _row_level(error):
                self._refuse(rows[0][0], error.code or str(error.status), _reason(error))
                return
            raise
        self._landed(rows, action)
        if action == "created":
            self.outcome.created += len(rows)
        else:
            self.outcome.updated += len(rows)
        self.report.written([n for n, _ in rows], action)


def _row_level(error: Any) -> bool:
    # What one row can cause: a bad value, a broken constraint. Not: no permission at all,
    # an expired token, a server down; those stop the import (the report says how far).
    from ..errors import InvalidRequest

    return isinstance(error, InvalidRequest)


def _hashable(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def _summary(args: argparse.Namespace, outcome: Outcome) -> int:
    if not args.quiet:
        parts = [f"created {outcome.created}"]
        if args.upsert_on:
            parts.append(f"updated {outcome.updated}")
        if outcome.skipped:
            parts.append(f"skipped {outcome.skipped} already written")
        parts.append(f"refused {len(outcome.refused)}")
        where = f" (details in {args.report})" if args.report and outcome.refused else ""
        print(f"import {args.collection}: {', '.join(parts)}{where}", file=sys.stderr)
    for number, reason in outcome.refused[:SHOWN_REFUSALS]:
        print(f"  row {number} refused: {reason}", file=sys.stderr)
    if len(outcome.refused) > SHOWN_REFUSALS:
        print(f"  ... and {len(outcome.refused) - SHOWN_REFUSALS} more", file=sys.stderr)
    if outcome.stopped:
        print(f"import {args.collection}: {outcome.stopped}; fix the file (or pass a larger "
              "--max-refusals)", file=sys.stderr)
    return 1 if outcome.refused else 0
