"""`pydirectus files upload/download` as subprocesses against a real Directus."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from pydirectus import DirectusClient
from pydirectus.testing import DirectusServer

from .cli_helpers import one_line_error, run_cli


def png(width: int, height: int) -> bytes:
    """Return a plain RGB PNG of the given size."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"".join(bytes([x % 256, y % 256, 128]) for x in range(width))
                    for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def png_width(data: bytes) -> int:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width: int = struct.unpack(">I", data[16:20])[0]
    return width


def test_upload_into_a_folder_path_and_download_with_transforms(
        directus: DirectusServer, directus_client: DirectusClient, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_bytes(b"quarterly numbers\n" * 1000)
    (tmp_path / "image.png").write_bytes(png(64, 32))
    url, token = directus.url, directus.admin_token
    uploaded = run_cli(url, token, "files", "upload", "notes.txt", "image.png", "--folder",
                       "cli/2026/reports", "--title", "From the shell", cwd=tmp_path)
    assert uploaded.returncode == 0, uploaded.stderr
    assert uploaded.stderr.strip() == "uploaded 2 files into cli/2026/reports"
    ids = dict(reversed(line.split("\t")) for line in uploaded.stdout.splitlines())
    assert set(ids) == {"notes.txt", "image.png"}
    folder = directus_client.folders.ensure("cli/2026/reports")
    records = {f["id"]: f for f in directus_client.files.filter(folder=folder["id"])}
    assert set(records) == set(ids.values())
    assert {r["title"] for r in records.values()} == {"From the shell"}
    try:
        out = tmp_path / "out"
        out.mkdir()
        own_name = run_cli(url, token, "files", "download", ids["notes.txt"], cwd=out)
        assert own_name.returncode == 0, own_name.stderr
        assert (out / "notes.txt").read_bytes() == b"quarterly numbers\n" * 1000
        assert own_name.stderr.strip() == "downloaded 18000 bytes to notes.txt"
        small = run_cli(url, token, "files", "download", ids["image.png"], "--width", "16",
                        "--format", "png", "-o", "small.png", cwd=out)
        assert small.returncode == 0, small.stderr
        assert png_width((out / "small.png").read_bytes()) == 16
        piped = run_cli(url, token, "files", "download", ids["notes.txt"], "-o", "-")
        assert piped.stdout == "quarterly numbers\n" * 1000
        missing = one_line_error(run_cli(url, token, "files", "download",
                                         "00000000-0000-4000-8000-000000000000", "-o", "x"))
        assert "403" in missing or "404" in missing
        assert "no such file" in one_line_error(
            run_cli(url, token, "files", "upload", "nope.txt", cwd=tmp_path))
        assert "invalid int" in one_line_error(
            run_cli(url, token, "files", "download", ids["image.png"], "--width", "wide"))
    finally:
        for file_id in ids.values():
            directus_client.files.delete(file_id)


def test_download_never_replaces_a_file_it_was_not_told_to(
        directus: DirectusServer, directus_client: DirectusClient, tmp_path: Path) -> None:
    url, token = directus.url, directus.admin_token
    record = directus_client.files.upload(b"from the server\n", filename="notes.txt")
    try:
        # The server names the file; a hostile name must not make a hidden file, climb out
        # of the current directory or replace what is there.
        directus_client.files.update(record["id"], {"filename_download": ".bashrc"})
        home = tmp_path / "home"
        home.mkdir()
        (home / "bashrc").write_text("mine\n")
        refused = one_line_error(run_cli(url, token, "files", "download", record["id"],
                                         cwd=home))
        assert "bashrc exists" in refused and "--force" in refused
        assert (home / "bashrc").read_text() == "mine\n"
        assert sorted(p.name for p in home.iterdir()) == ["bashrc"]  # no temporary left
        forced = run_cli(url, token, "files", "download", record["id"], "--force", cwd=home)
        assert forced.returncode == 0, forced.stderr
        assert (home / "bashrc").read_text() == "from the server\n"
        assert not (home / ".bashrc").exists()
        (home / "bashrc").write_text("mine again\n")
        named = run_cli(url, token, "files", "download", record["id"], "-o", "bashrc",
                        cwd=home)
        assert named.returncode == 0, named.stderr  # -o names it: replaced without --force
        assert (home / "bashrc").read_text() == "from the server\n"

        directus_client.files.update(record["id"], {"filename_download": "../../escape.txt"})
        inside = home / "inside"
        inside.mkdir()
        climbed = run_cli(url, token, "files", "download", record["id"], cwd=inside)
        assert climbed.returncode == 0, climbed.stderr
        assert (inside / "escape.txt").read_text() == "from the server\n"
        assert not (tmp_path / "escape.txt").exists() and not (home / "escape.txt").exists()

        directus_client.files.update(record["id"], {"filename_download": "/.."})
        nameless = one_line_error(run_cli(url, token, "files", "download", record["id"],
                                          cwd=inside))
        assert "no name to save it under" in nameless
    finally:
        directus_client.files.delete(record["id"])


def test_resumable_upload_from_the_shell(directus: DirectusServer,
                                         directus_client: DirectusClient,
                                         tmp_path: Path) -> None:
    (tmp_path / "log.txt").write_bytes(b"line\n" * 50_000)
    done = run_cli(directus.url, directus.admin_token, "files", "upload", "log.txt",
                   "--resumable", "--title", "Resumed", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    file_id, name = done.stdout.strip().split("\t")
    try:
        assert name == "log.txt"
        assert directus_client.files.get(file_id)["title"] == "Resumed"
        assert directus_client.files.read_bytes(file_id) == b"line\n" * 50_000
    finally:
        directus_client.files.delete(file_id)
