"""`pydirectus files`: upload files (into a folder path) and download them (transformed)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
from typing import Any

from .common import add_command, connect, fail, path_argument

EXAMPLES = """
pydirectus files upload report.pdf photos/*.jpg --folder media/2026
pydirectus files download 8cbb43fe-4cdf-4991-8352-c461779cec02 -o report.pdf
pydirectus files download 8cbb43fe-4cdf-4991-8352-c461779cec02 --width 320 -o thumb.jpg
"""

FITS = ("cover", "contain", "inside", "outside", "fill")
IMAGE_FORMATS = ("auto", "jpg", "jpeg", "png", "webp", "tiff", "avif")


def add_parser(subparsers: Any) -> None:
    """Add the `files` command with its upload and download actions."""
    parser = add_command(subparsers, "files", "upload and download files", EXAMPLES)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    upload = add_command(actions, "upload", "upload files (streamed), one request each",
                         "pydirectus files upload a.pdf b.png --folder media/2026 --title Q3")
    upload.add_argument("paths", nargs="+", type=path_argument, metavar="PATH",
                        help="files to upload")
    upload.add_argument("--folder", metavar="PATH",
                        help="a folder path such as media/2026 (made if missing)")
    upload.add_argument("--title", help="the title to give every file")
    upload.add_argument("--resumable", action="store_true",
                        help="send each file over TUS in chunks, resuming after an "
                             "interruption (the server needs TUS_ENABLED=true)")
    upload.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    upload.set_defaults(run=run_upload)
    download = add_command(actions, "download", "download a file (transformed, if asked)",
                           "pydirectus files download ID -o photo.jpg\n"
                           "pydirectus files download ID --width 320 --fit cover -o thumb.jpg")
    download.add_argument("id", metavar="ID", help="the file's id")
    download.add_argument("-o", "--output", type=path_argument, metavar="PATH",
                          help="where to write ('-': stdout; default: the file's own name, "
                               "made safe, in the current directory)")
    download.add_argument("--force", action="store_true",
                          help="replace an existing file of the file's own name (a file "
                               "named with -o is always replaced)")
    group = download.add_argument_group("image transforms")
    group.add_argument("--width", type=int, metavar="PX")
    group.add_argument("--height", type=int, metavar="PX")
    group.add_argument("--fit", choices=FITS)
    group.add_argument("--quality", type=int, metavar="1-100")
    group.add_argument("--format", choices=IMAGE_FORMATS)
    download.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    download.set_defaults(run=run_download)


def _progress(args: argparse.Namespace) -> bool:
    # A bar only for a person watching, and only when tqdm can draw it.
    return (not args.quiet and sys.stderr.isatty()
            and importlib.util.find_spec("tqdm") is not None)


def run_upload(args: argparse.Namespace) -> int:
    """Upload each file; print `id<TAB>path` for each on stdout."""
    for path in args.paths:
        if not os.path.isfile(path):
            fail(f"{path}: no such file")
    with connect(args) as client:
        data: dict[str, Any] = {}
        if args.folder:
            data["folder"] = client.folders.ensure(args.folder)["id"]
        if args.title:
            data["title"] = args.title
        for path in args.paths:
            record = client.files.upload(path, data=data or None, progress=_progress(args),
                                         resumable=args.resumable)
            print(f"{record['id']}\t{path}", flush=True)
    where = f" into {args.folder}" if args.folder else ""
    count = len(args.paths)
    print(f"uploaded {count} {'file' if count == 1 else 'files'}{where}", file=sys.stderr)
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Stream the file (transformed) to a path or stdout."""
    transforms = {name: getattr(args, name) for name in
                  ("width", "height", "fit", "quality", "format")
                  if getattr(args, name) is not None}
    with connect(args) as client:
        if args.output == "-":
            size = 0
            for chunk in client.files.iter_bytes(args.id, **transforms):
                sys.stdout.buffer.write(chunk)
                size += len(chunk)
            sys.stdout.buffer.flush()
            return 0
        output = args.output or _own_name(client, args.id)
        if args.output is None and os.path.lexists(output) and not args.force:
            fail(f"{output} exists: the server names the file {output!r}; pass --force to "
                 "replace it, or -o PATH to write elsewhere")
        size = client.files.download(args.id, output, progress=_progress(args),
                                     **transforms)
    print(f"downloaded {size} bytes to {output}", file=sys.stderr)
    return 0


def _own_name(client: Any, id: str) -> str:
    record = client.files.fields("filename_download").get(id)
    name = safe_basename(record.get("filename_download"))
    if name is None:
        fail(f"file {id} has no name to save it under; pass -o PATH")
    return name


#: characters no saved name keeps: path separators, NUL and the other control characters
_UNSAFE = re.compile(r"[/\\\x00-\x1f\x7f]")


def safe_basename(name: Any) -> str | None:
    """Return the server's ``filename_download`` as a name safe to create in the current
    directory, or None when nothing usable is left.

    The name is the server's to choose, so it is not trusted: only what follows the last
    ``/`` or ``\\`` is kept, control characters and NUL are dropped, and leading dots and
    spaces go (``.bashrc`` is saved as ``bashrc``, never as a hidden file), as do
    trailing dots and spaces; a name longer than 255 bytes is cut, keeping its extension.
    """
    if not isinstance(name, str):
        return None
    base = re.split(r"[/\\]", name)[-1]
    base = _UNSAFE.sub("", base).lstrip(". ").rstrip(". ")
    if not base:
        return None
    stem, dot, extension = base.rpartition(".")
    if not dot or len(extension.encode("utf-8", "surrogateescape")) > 32:
        stem, dot, extension = base, "", ""
    while len((stem + dot + extension).encode("utf-8", "surrogateescape")) > 255:
        stem = stem[:-1]
    return (stem + dot + extension) if stem else None
