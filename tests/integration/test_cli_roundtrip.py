"""`pydirectus export` then `import` of a relational schema into a second, empty Directus;
a file refused as a whole stops after a bounded number of requests; exit statuses."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pydirectus import DirectusClient, StaticToken
from pydirectus.cli import main
from pydirectus.system import Field, ManyToMany, ManyToOne, OneToMany
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.pytest_plugin import running
from tests.faults import FaultProxy

from .cli_helpers import FIELDS, one_line_error, run_cli, token_of


@pytest.fixture
def blog(directus_client: DirectusClient) -> Iterator[dict[str, str]]:
    """A blog: authors, tags, posts (m2o author, m2o cover file, o2m comments, m2m tags)."""
    admin = directus_client
    names = {key: unique(key) for key in ("authors", "tags", "posts", "comments")}
    names["junction"] = f"{names['posts']}_{names['tags']}"
    admin.schema.define(names["authors"], {"name": Field("string", required=True)})
    admin.schema.define(names["tags"], {"label": Field("string", unique=True)}, pk="uuid")
    admin.schema.define(names["comments"], {"body": "text"})
    admin.schema.define(names["posts"], {
        "title": "string", "data": "json", "keywords": "csv",
        "author": ManyToOne(names["authors"], reverse="posts"),
        "cover": ManyToOne("directus_files"),
        "comments": OneToMany(names["comments"], field="post"),
        "tags": ManyToMany(names["tags"], reverse="posts"),
    })
    # A presentation alias too: no column, never exported.
    admin.fields.create(names["posts"], {"field": "divider", "type": "alias", "meta": {
        "special": ["alias", "no-data"], "interface": "presentation-divider"}})
    yield names
    admin.schema.drop(*(names[key] for key in ("comments", "junction", "posts", "tags",
                                                "authors")))


def _fill(admin: DirectusClient, names: dict[str, str]) -> list[str]:
    files = [admin.files.upload(f"file {n}\n".encode() * (n + 1), filename=f"f{n}.txt",
                                data={"title": f"File {n}"})["id"] for n in range(3)]
    authors = admin.collection(names["authors"]).create_many(
        [{"name": f"Author {n}"} for n in range(4)])
    tags = admin.collection(names["tags"]).create_many(
        [{"label": f"tag-{unique('t')}"} for _ in range(5)])
    posts = admin.collection(names["posts"])
    for n in range(12):
        posts.create({
            "title": f"Post {n}", "data": None if n % 3 else {"n": n, "list": [1, "two"]},
            "keywords": ["a", "b"] if n % 2 else None,
            "author": None if n == 11 else authors[n % 4]["id"],
            "cover": files[n % 3] if n % 4 else None,
            "comments": {"create": [{"body": f"c{n}.{k}"} for k in range(n % 3)]},
            "tags": {"create": [{f"{names['tags']}_id": tags[(n + k) % 5]["id"]}
                                for k in range(n % 4)]},
        })
    return files


def _rows(client: DirectusClient, name: str) -> list[dict[str, Any]]:
    pk = "id"
    return sorted(client.collection(name), key=lambda row: str(row[pk]))


def _links(client: DirectusClient, names: dict[str, str]) -> list[dict[str, Any]]:
    # Every link, read through the relations (not the stored keys): what a reader sees.
    rows = client.collection(names["posts"]).fields(
        "id", "author.name", "cover.filename_download", "comments.body",
        f"tags.{names['tags']}_id.label").sort("id").fetch()
    for row in rows:
        row["comments"] = sorted(c["body"] for c in row["comments"])
        row["tags"] = sorted(t[f"{names['tags']}_id"]["label"] for t in row["tags"])
    return rows


def test_a_whole_blog_exports_and_imports_into_an_empty_server(
        directus: DirectusServer, directus_client: DirectusClient, directus_database: str,
        blog: dict[str, str], tmp_path: Path) -> None:
    source = directus_client
    files = _fill(source, blog)
    # Referenced before referencing: authors and tags, then posts, then what points at posts.
    order = [blog[key] for key in ("authors", "tags", "posts", "junction", "comments")]
    with running(DirectusServer(database=directus_database)) as empty, \
            DirectusClient(empty.url, auth=StaticToken(empty.admin_token)) as target:
        source.schema.copy_to(target.schema)
        # The CLI has no command that keeps a file's id (`files upload` makes a new one):
        # the test uploads each file's bytes to the target under the source's id.
        for record in source.files.filter(id__in=files):
            target.files.upload(b"".join(source.files.iter_bytes(record["id"])),
                                filename=record["filename_download"],
                                data={"id": record["id"], "title": record["title"]})
        for name in order:
            path = tmp_path / f"{name}.jsonl"
            exported = run_cli(directus.url, directus.admin_token, "export", name,
                               "-o", str(path), "--page-size", "5")
            assert exported.returncode == 0, exported.stderr
            first = json.loads(path.read_text().splitlines()[0])
            # Columns only: no o2m, m2m or presentation alias.
            assert not {"posts", "comments", "tags", "divider"} & set(first), first
            imported = run_cli(empty.url, empty.admin_token, "import", name, str(path),
                               "--batch-size", "7")
            assert imported.returncode == 0, imported.stderr
            assert imported.stderr.strip().endswith(", refused 0"), imported.stderr
        for name in order:
            assert _rows(target, name) == _rows(source, name), name
        assert _links(target, blog) == _links(source, blog)
        assert len(_links(target, blog)) == 12
        for file_id in files:
            assert b"".join(target.files.iter_bytes(file_id)) == \
                b"".join(source.files.iter_bytes(file_id))


def test_export_writes_columns_unless_relations_are_asked_for(
        directus: DirectusServer, directus_client: DirectusClient, blog: dict[str, str],
        make_collection: Callable[..., str], tmp_path: Path) -> None:
    authors = directus_client.collection(blog["authors"])
    ann = authors.create({"name": "Ann"})
    directus_client.collection(blog["posts"]).create({"title": "Hello", "author": ann["id"]})
    plain, related = tmp_path / "plain.csv", tmp_path / "related.jsonl"
    result = run_cli(directus.url, directus.admin_token, "export", blog["authors"],
                     "-o", str(plain))
    assert result.returncode == 0, result.stderr
    assert plain.read_text().splitlines() == ["id,name", f"{ann['id']},Ann"]
    result = run_cli(directus.url, directus.admin_token, "export", blog["authors"],
                     "-o", str(related), "--with-relations")
    assert result.returncode == 0, result.stderr
    assert json.loads(related.read_text()) == {"id": ann["id"], "name": "Ann", "posts": [1]}
    named = run_cli(directus.url, directus.admin_token, "export", blog["posts"], "-o", "-",
                    "--fields", "id,tags,comments", "--quiet")
    assert json.loads(named.stdout) == {"id": 1, "tags": [], "comments": []}

    # Alias fields in an import are refused, naming them, before anything is sent.
    directus_client.collection(blog["posts"]).delete(1)
    authors.delete(ann["id"])
    refused = run_cli(directus.url, directus.admin_token, "import", blog["authors"],
                      str(related))
    line = one_line_error(refused)
    assert refused.returncode == 1
    assert f"{related}: row 1 holds alias fields posts (o2m)" in line
    assert "--with-relations" in line
    assert authors.count() == 0
    # Asked for, they go out as Directus's nested writes: the related items must exist.
    directus_client.collection(blog["posts"]).create({"id": 1, "title": "Hello"})
    sent = run_cli(directus.url, directus.admin_token, "import", blog["authors"],
                   str(related), "--with-relations")
    assert sent.returncode == 0, sent.stderr
    assert authors.fields("name", "posts.title").fetch() == [
        {"name": "Ann", "posts": [{"title": "Hello"}]}]


def test_a_token_that_may_not_read_fields_is_told_which_fields_may_be_aliases(
        directus: DirectusServer, directus_client: DirectusClient, blog: dict[str, str],
        access_grants: AccessGrants) -> None:
    ann = directus_client.collection(blog["authors"]).create({"name": "Ann"})
    directus_client.collection(blog["comments"]).create({"body": "hi"})
    api = access_grants.api_client({blog[key]: ["read"] for key in ("authors", "posts",
                                                                      "comments")})
    result = run_cli(directus.url, token_of(api), "export", blog["authors"], "-o", "-",
                     "--quiet")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"id": ann["id"], "name": "Ann", "posts": []}
    assert result.stderr == (
        f"export {blog['authors']}: warning: this token may not read /fields/"
        f"{blog['authors']}, so alias fields cannot be told from columns: posts held lists "
        "(o2m/m2m aliases hold their related keys, or JSON/CSV columns); if they are "
        "aliases, leave them out with --fields, or `import` moves the related items\n")
    named = run_cli(directus.url, token_of(api), "export", blog["authors"], "-o", "-",
                    "--quiet", "--fields", "id,name")
    assert named.returncode == 0 and named.stderr == "", named.stderr
    assert set(json.loads(named.stdout)) == {"id", "name"}
    public = access_grants.public_client({blog[key]: ["read"] for key in ("authors",
                                                                          "posts")})
    assert public.collection(blog["authors"]).count() == 1
    anonymous = run_cli(directus.url, None, "export", blog["authors"], "-o", "-", "--quiet")
    assert anonymous.returncode == 0, anonymous.stderr
    assert anonymous.stderr == result.stderr
    assert anonymous.stdout == result.stdout
    # No field held a list: nothing to warn about.
    plain = run_cli(directus.url, token_of(api), "export", blog["comments"], "-o", "-",
                    "--quiet")
    assert plain.returncode == 0 and plain.stderr == "", plain.stderr


def _refused_rows(report: Path) -> list[int]:
    return [entry["row"] for entry in map(json.loads, report.read_text().splitlines())
            if entry["status"] == "refused"]


def test_a_file_refused_as_a_whole_stops_after_a_bounded_number_of_requests(
        directus: DirectusServer, directus_client: DirectusClient,
        make_collection: Callable[..., str], tmp_path: Path) -> None:
    target = make_collection(FIELDS)
    source, report = tmp_path / "rows.jsonl", tmp_path / "report.jsonl"
    # Every row breaks the collection's NOT NULL title.
    source.write_text("".join(json.dumps({"title": None, "views": n}) + "\n"
                              for n in range(1, 5001)))
    with FaultProxy(directus.url, lifetime=240) as proxy:
        started = time.monotonic()
        result = run_cli(proxy.url, directus.admin_token, "import", target, str(source),
                         "--report", str(report))
        elapsed = time.monotonic() - started
        writes = [s for s in proxy.seen if s.method == "POST"]
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"import {target}: created 0, refused 100 (details in {report})"
    assert lines[1].startswith("  row 1 refused: ")
    assert lines[-1] == (f"import {target}: stopped at row 100 after 100 refused rows "
                         "(--max-refusals 100); the rows after it were not sent; fix the "
                         "file (or pass a larger --max-refusals)")
    assert _refused_rows(report) == list(range(1, 101))
    # Bisection costs about two requests per refused row: 100 rows, not 5,000.
    assert 200 <= len(writes) <= 2 * 100 + 10, len(writes)
    assert elapsed < 60, elapsed
    assert directus_client.collection(target).count() == 0

    # A smaller budget stops sooner; bisection still isolates a few bad rows among good.
    few = tmp_path / "few.jsonl"
    few.write_text("".join(json.dumps({"title": None if n in (7, 300, 301) else f"r{n}",
                                       "views": n}) + "\n" for n in range(1, 1001)))
    with FaultProxy(directus.url, lifetime=120) as proxy:
        mixed = run_cli(proxy.url, directus.admin_token, "import", target, str(few),
                        "--max-refusals", "5")
        requests = sum(1 for s in proxy.seen if s.method == "POST")
    assert mixed.returncode == 1
    assert f"import {target}: created 997, refused 3" in mixed.stderr
    assert "stopped" not in mixed.stderr
    assert requests <= 2 + 3 * 2 * 9, requests
    stopped = run_cli(directus.url, directus.admin_token, "import", target, str(source),
                      "--max-refusals", "3", "--quiet")
    assert stopped.returncode == 1
    assert "stopped at row 3 after 3 refused rows" in stopped.stderr


def test_rows_missing_their_foreign_key_stop_after_the_refusal_bound(
        directus: DirectusServer, directus_client: DirectusClient, blog: dict[str, str],
        tmp_path: Path) -> None:
    source, report = tmp_path / "posts.jsonl", tmp_path / "report.jsonl"
    source.write_text("".join(json.dumps({"title": f"p{n}", "author": 999_999}) + "\n"
                              for n in range(1, 301)))
    with FaultProxy(directus.url, lifetime=120) as proxy:
        result = run_cli(proxy.url, directus.admin_token, "import", blog["posts"],
                         str(source), "--batch-size", "100", "--max-refusals", "20",
                         "--report", str(report))
        writes = sum(1 for s in proxy.seen if s.method == "POST")
    # Directus 12.4 refuses a missing key (INVALID_FOREIGN_KEY) on SQLite and PostgreSQL.
    assert result.returncode == 1, result.stderr
    assert f"import {blog['posts']}: created 0, refused 20" in result.stderr
    assert "stopped at row 20 after 20 refused rows" in result.stderr
    refused = [e for e in map(json.loads, report.read_text().splitlines())
               if e["status"] == "refused"]
    assert [e["row"] for e in refused] == list(range(1, 21))
    assert {e["code"] for e in refused} == {"INVALID_FOREIGN_KEY"}, refused[0]
    assert writes <= 2 * 20 + 7, writes
    assert directus_client.collection(blog["posts"]).count() == 0


@pytest.mark.parametrize(("args", "status"), [
    (["qury", "{collection}"], 2),                                  # a command typo
    (["query", "{collection}", "--limt", "5"], 2),                  # an option typo
    (["query", "{collection}", "--limit", "ten"], 2),               # a value argparse checks
    (["query", "{collection}", "--filter", "views__gtt=1"], 2),     # one the library checks
    (["query", "{collection}", "--filter", "no equals sign"], 2),
    (["query", "{collection}", "--fields", "titel"], 2),            # an unknown field
    (["export", "{collection}", "-o", "out.txt"], 2),               # no format
    (["import", "{collection}", "rows.jsonl", "--batch-size", "0"], 2),
    (["import", "{collection}", "rows.jsonl", "--max-refusals", "0"], 2),
    (["import", "{collection}", "rows.jsonl", "--resume"], 2),
    (["query", "{collection}", "--token", "a", "--email", "b@example.com"], 2),
    (["query", "no_such_collection"], 1),                           # Directus refuses
    (["import", "{collection}", "missing.jsonl"], 1),               # no such file
    (["import", "{collection}", "bad.jsonl"], 1),                   # a row refused
    (["query", "{collection}", "--limit", "1"], 0),
    (["import", "{collection}", "rows.jsonl"], 0),
])
def test_each_exit_status_is_the_one_the_readme_promises(
        directus: DirectusServer, make_collection: Callable[..., str], tmp_path: Path,
        args: list[str], status: int) -> None:
    collection = make_collection(FIELDS)
    (tmp_path / "rows.jsonl").write_text('{"title": "x"}\n')
    (tmp_path / "bad.jsonl").write_text('{"title": null}\n')
    result = run_cli(directus.url, directus.admin_token,
                     *(a.format(collection=collection) for a in args), cwd=tmp_path)
    assert result.returncode == status, result.stderr
    if status:
        assert "Traceback" not in result.stderr
        assert "error:" in result.stderr or " refused: " in result.stderr


def test_no_server_is_a_usage_error_and_an_interrupt_exits_130(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("DIRECTUS_URL", raising=False)
    assert main(["query", "articles"]) == 2
    assert "no server" in capsys.readouterr().err

    def interrupted(args: Any) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr("pydirectus.cli.query.run", interrupted)
    monkeypatch.setenv("DIRECTUS_URL", "http://127.0.0.1:9")
    assert main(["query", "articles"]) == 130
    assert capsys.readouterr().err == "pydirectus query: interrupted\n"
