"""`import --resume`: tell whether the batches an interrupted import had in flight landed.

Before a batch goes out, the import records it in its report as in flight (flushed and
fsynced), with what identifies its rows: their primary keys when the rows carry them, the
``--upsert-on`` field, or else the collection's item count before the batch. On resume,
each batch still in flight (no written, refused or not-landed entry after it) is settled
before anything is sent:

- rows with keys: read back by key; those found landed, the rest are sent again;
- ``--upsert-on``: sent again, since the upsert reads which exist and updates them;
- neither: the item count now against the count before the batch (0 more: it did not
  land; as many more as it had rows and that many items match the rows' content: it
  landed); anything else (another writer, a count this token may not read, the report's
  last batch was not this one) cannot be decided, and the import stops naming the rows,
  unless ``--in-flight landed|resend`` says what to assume.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .common import fail

if TYPE_CHECKING:
    from ..collection import Collection

__all__ = ["InFlight", "Settled", "content_filter", "cut_unfinished_line", "ranges",
           "read_in_flight", "settle"]

#: what --in-flight accepts: stop when undecided (the default), or assume either way
IN_FLIGHT_CHOICES = ("check", "landed", "resend")


class ReportWriter(Protocol):
    """What settling writes to the report (the import's Report)."""

    def written(self, numbers: Sequence[int], action: str) -> None: ...

    def not_landed(self, numbers: Sequence[int]) -> None: ...


def ranges(numbers: Iterable[int]) -> list[list[int]]:
    """Return sorted row numbers as [first, last] runs of consecutive numbers."""
    runs: list[list[int]] = []
    for number in sorted(numbers):
        if runs and number == runs[-1][1] + 1:
            runs[-1][1] = number
        else:
            runs.append([number, number])
    return runs


def cut_unfinished_line(path: str) -> None:
    """Drop a last line the report never finished (the machine stopped mid-write)."""
    # Its entry never reached the disk whole, so nothing after it was sent; appending after
    # it would glue the next entry to it.
    try:
        with open(path, "rb+") as handle:
            end = handle.seek(0, 2)
            if end == 0:
                return
            handle.seek(end - 1)
            if handle.read(1) == b"\n":
                return
            start = max(end - 1024 * 1024, 0)
            handle.seek(start)
            tail = handle.read()
            cut = tail.rfind(b"\n")
            handle.truncate(start + cut + 1 if cut >= 0 else start)
    except FileNotFoundError:
        pass


@attrs.frozen
class InFlight:
    """A batch the report says was sent, with no entry after it saying what became of it."""

    line: int
    action: str
    rows: tuple[int, ...]
    size: int
    keys: Mapping[int, Any] | None = None
    primary_key: str | None = None
    count_before: int | None = None
    upsert_on: str | None = None
    #: no batch was sent after this one (so the count before it is still the baseline)
    last: bool = False

    def described(self) -> str:
        """Return the rows as "rows 3-5, 9" for messages."""
        text = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges(self.rows))
        return f"row{'s' if len(self.rows) > 1 else ''} {text}"


def read_in_flight(path: str) -> list[InFlight]:
    """Return the batches the report at path left in flight (none if it does not exist)."""
    sent: dict[int, dict[str, Any]] = {}
    pending: dict[int, int] = {}  # row number -> line of the last batch that sent it
    last_line = 0
    try:
        with open(path, encoding="utf-8") as handle:
            for line, text in enumerate(handle, 1):
                if not text.strip():
                    continue
                entry = _entry(path, line, text)
                status = entry.get("status")
                if status == "in_flight":
                    numbers = [n for first, last in entry["rows"] for n in range(first, last + 1)]
                    entry["numbers"] = numbers
                    sent[line] = entry
                    last_line = line
                    pending.update(dict.fromkeys(numbers, line))
                elif pending and status in ("written", "not_landed", "refused"):
                    first, last = entry["rows"] if status != "refused" else (entry["row"],) * 2
                    for number in [n for n in pending if first <= n <= last]:
                        del pending[number]
    except FileNotFoundError:
        return []
    except (ValueError, KeyError, TypeError) as exc:
        fail(f"{path}: an in-flight entry is not readable ({exc}); is it an import report?")
    flights: list[InFlight] = []
    for line in sorted(set(pending.values())):
        entry = sent[line]
        rows = tuple(n for n in entry["numbers"] if pending.get(n) == line)
        keys = entry.get("keys")
        flights.append(InFlight(
            line=line, action=str(entry.get("action", "created")), rows=rows,
            size=len(entry["numbers"]),
            keys=dict(zip(entry["numbers"], keys, strict=True)) if keys is not None else None,
            primary_key=entry.get("primary_key"), count_before=entry.get("count_before"),
            upsert_on=entry.get("upsert_on"), last=line == last_line))
    return flights


def _entry(path: str, line: int, text: str) -> dict[str, Any]:
    entry = json.loads(text)
    if not isinstance(entry, dict):
        fail(f"{path}: line {line} is not a report entry; is it an import report?")
    return entry


def content_filter(row: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return a Directus filter for items equal to the row on its plain values (None: none)."""
    # Lists and objects (JSON, relations) cannot be compared by a filter: left out.
    parts = [{field: {"_null": True} if value is None else {"_eq": value}}
             for field, value in row.items() if not isinstance(value, dict | list)]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"_and": parts}


@attrs.frozen
class Settled:
    """What settling found: rows that landed, rows to send again, rows nobody can tell."""

    landed: tuple[int, ...] = ()
    resend: tuple[int, ...] = ()
    undecided: tuple[tuple[InFlight, str], ...] = ()


def settle(handle: Collection[dict[str, Any]], flights: Sequence[InFlight],
           rows: Mapping[int, Mapping[str, Any]], report: ReportWriter,
           assume: str = "check") -> Settled:
    """Decide each in-flight batch (reads only: GET /items/{collection} by key or count),
    record the answer in the report, and fail naming the rows nobody can decide."""
    from ..errors import PermissionDenied

    landed: list[int] = []
    resend: list[int] = []
    undecided: list[tuple[InFlight, str]] = []
    counted: list[int] = []

    def count_now() -> int:
        # One count for every batch: nothing is sent while settling.
        if not counted:
            counted.append(handle.count())
        return counted[0]

    for flight in flights:
        try:
            verdict, reason = _decide(handle, flight, rows, count_now)
        except PermissionDenied as denied:
            verdict, reason = None, f"this token may not read {handle.name} ({denied})"
        if verdict is None:
            undecided.append((flight, reason))
            if assume == "landed":
                verdict = list(flight.rows)
            elif assume == "resend":
                verdict = []
            else:
                continue
        landed_here = set(verdict)
        landed.extend(n for n in flight.rows if n in landed_here)
        resend.extend(n for n in flight.rows if n not in landed_here)
        report.written([n for n in flight.rows if n in landed_here], flight.action)
        report.not_landed([n for n in flight.rows if n not in landed_here])
    if undecided and assume == "check":
        details = "; ".join(f"{flight.described()}: {reason}" for flight, reason in undecided)
        fail(f"cannot tell whether the batch in flight when the import stopped landed "
             f"({details}); look for those rows in {handle.name}, then run again with "
             f"--resume --in-flight landed (they are there) or --in-flight resend (they "
             f"are not)")
    return Settled(tuple(landed), tuple(resend), tuple(undecided))


def _decide(handle: Collection[dict[str, Any]], flight: InFlight,
            rows: Mapping[int, Mapping[str, Any]], count_now: Callable[[], int]
            ) -> tuple[list[int] | None, str]:
    """Return the rows of the batch that landed (None: cannot tell) and, if so, why."""
    if flight.upsert_on is not None:
        return [], ""  # sent again: the upsert finds those that landed and updates them
    if flight.keys is not None and flight.primary_key is not None:
        pk = flight.primary_key
        keys = [flight.keys[n] for n in flight.rows]
        found = {str(item.get(pk)) for item in
                 handle.filter(**{f"{pk}__in": keys}).fields(pk)}
        return [n for n in flight.rows if str(flight.keys[n]) in found], ""
    missing = [n for n in flight.rows if n not in rows]
    if missing:
        return None, f"the file has no row {missing[0]} any more"
    if flight.count_before is not None and flight.last:
        created = count_now() - flight.count_before
        if created == 0:
            return [], ""
        if created != flight.size:
            return None, (f"the collection has {created} items more than before the batch "
                          f"of {flight.size} (another writer, or items deleted)")
        matching = _matching(handle, [rows[n] for n in flight.rows])
        if matching is not None and matching >= len(flight.rows):
            return list(flight.rows), ""
        return None, (f"{created} items were created, but {matching or 0} match the "
                      f"rows' content")
    matching = _matching(handle, [rows[n] for n in flight.rows])
    if matching == 0:
        return [], ""
    why = "no count from before the batch" if flight.count_before is None else (
        "other batches were sent after it")
    return None, (f"{why}, and {matching} items with the same content exist, which may "
                  f"have been there before" if matching else
                  f"{why}, and its rows have no plain value to compare")


def _matching(handle: Collection[dict[str, Any]], rows: Sequence[Mapping[str, Any]]
              ) -> int | None:
    """Return how many items equal one of the rows (None: a row has nothing to compare)."""
    filters = [found for found in map(content_filter, rows) if found is not None]
    if len(filters) < len(rows):
        return None
    return handle.filter({"_or": filters} if len(filters) > 1 else filters[0]).count()


def rows_wanted(flights: Sequence[InFlight]) -> set[int]:
    """Return the row numbers whose content settling needs (batches without keys)."""
    return {n for flight in flights if flight.keys is None and flight.upsert_on is None
            for n in flight.rows}


def pick(rows: Iterator[dict[str, Any]], wanted: set[int]) -> dict[int, dict[str, Any]]:
    """Return the wanted rows by number, reading no further than the last of them."""
    found: dict[int, dict[str, Any]] = {}
    if not wanted:
        return found
    last = max(wanted)
    for number, row in enumerate(rows, 1):
        if number in wanted:
            found[number] = row
        if number >= last:
            break
    return found
