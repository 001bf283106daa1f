"""`pydirectus export --format parquet`: typed columns, read back equal to the JSONL export."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pydirectus import DirectusClient
from pydirectus.testing import DirectusServer
from tests.faults import Fault, FaultProxy

from .cli_helpers import SOURCE_ROOT, one_line_error, run_cli
from .test_type_matrix import FIELDS, ROWS


@pytest.fixture
def kinds(make_collection: Callable[..., str], directus_client: DirectusClient) -> str:
    name = make_collection(FIELDS, prefix="pq")
    more = [{**ROWS[i % 2], "small": i, "big": 2**33 + i, "label": f"row {i}"}
            for i in range(20)]
    directus_client.collection(name).create_many([*ROWS, *more])
    return name


def _as_parquet_reads(kind: pa.DataType, directus_type: str, value: Any) -> Any:
    """Return a JSONL value in the Python type the Parquet column reads back as."""
    if value is None:
        return None
    if pa.types.is_date32(kind):
        return dt.date.fromisoformat(value)
    if pa.types.is_timestamp(kind):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if pa.types.is_time64(kind):
        return dt.time.fromisoformat(value)
    if pa.types.is_decimal(kind):
        return Decimal(str(value))
    if directus_type == "json":
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


def test_parquet_reads_back_as_the_jsonl_export(directus: DirectusServer, kinds: str,
                                                directus_client: DirectusClient,
                                                tmp_path: Path) -> None:
    jsonl, parquet = tmp_path / "items.jsonl", tmp_path / "items.parquet"
    for path in (jsonl, parquet):
        done = run_cli(directus.url, directus.admin_token, "export", kinds, "-o", str(path),
                       "--page-size", "5", "--sort", "id")
        assert done.returncode == 0, done.stderr
        assert done.stderr.strip() == f"exported 23 items of {kinds} to {path}"
    expected = [json.loads(line) for line in jsonl.read_text().splitlines()]
    table = pq.read_table(parquet)
    # The types of q.to_arrow(), from the field types: a column null in the first row
    # group keeps its type.
    assert table.schema == directus_client.collection(kinds).to_arrow().schema
    assert pq.ParquetFile(parquet).metadata.num_row_groups == 5  # a row group a page
    assert table.schema.names == list(expected[0])
    read_back = table.to_pylist()
    assert len(read_back) == len(expected) == 23
    for field in table.schema:
        directus_type = field.metadata[b"directus_type"].decode()
        column = [row[field.name] for row in read_back]
        if directus_type == "json":  # compact JSON text: the same value
            column = [None if v is None else json.loads(v) for v in column]
            assert column == [row[field.name] for row in expected], field.name
            continue
        assert column == [_as_parquet_reads(field.type, directus_type, row[field.name])
                          for row in expected], field.name
    # Nothing matches: a file of no rows, with the same schema.
    empty = tmp_path / "none.parquet"
    done = run_cli(directus.url, directus.admin_token, "export", kinds, "-o", str(empty),
                   "--filter", "small__gt=1000000", "--quiet")
    assert done.returncode == 0, done.stderr
    assert pq.read_table(empty).num_rows == 0
    assert pq.read_schema(empty) == table.schema


def test_parquet_needs_a_file_and_pyarrow(directus: DirectusServer, kinds: str,
                                          tmp_path: Path) -> None:
    to_stdout = run_cli(directus.url, directus.admin_token, "export", kinds, "-o", "-",
                        "--format", "parquet")
    assert "-o FILE.parquet" in one_line_error(to_stdout)
    # A pyarrow that cannot be imported stands for the extra not installed.
    fake = tmp_path / "site"
    (fake / "pyarrow").mkdir(parents=True)
    (fake / "pyarrow" / "__init__.py").write_text("raise ImportError('no pyarrow here')\n")
    out = tmp_path / "items.parquet"
    missing = run_cli(directus.url, directus.admin_token, "export", kinds, "-o", str(out),
                      env={"PYTHONPATH": f"{fake}:{SOURCE_ROOT}"})
    assert "pip install 'pydirectus[arrow]'" in one_line_error(missing)
    assert not out.exists()


def test_a_parquet_export_cut_short_writes_nothing(directus: DirectusServer, kinds: str,
                                                  tmp_path: Path) -> None:
    out = tmp_path / "items.parquet"
    with FaultProxy(directus.url) as proxy:
        # skip=2: the count at the start and the first page pass; the second is empty.
        proxy.add(Fault.status(200, b'{"data": []}', {"Content-Type": "application/json"},
                               method="GET", path=f"/items/{kinds}", skip=2))
        result = run_cli(proxy.url, directus.admin_token, "export", kinds, "-o", str(out),
                         "--page-size", "10")
    assert "the pages ended after 10 of 23 items" in one_line_error(result)
    assert not out.exists() and not list(tmp_path.iterdir())
