"""Image transforms, asset URLs and read_bytes against the real Directus."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from pydirectus import DirectusClient, StaticToken, UsageError
from pydirectus.errors import InvalidRequest
from pydirectus.testing import DirectusServer
from tests.faults import FaultProxy


def make_png(width: int, height: int) -> bytes:
    """Return an RGB PNG with a gradient (so a resize has something to average)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    rows = b"".join(b"\x00" + b"".join(bytes((x * 4 % 256, y * 4 % 256, (x + y) % 256))
                                        for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
            + chunk(b"IEND", b""))


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture(scope="module")
def image(directus: DirectusServer) -> Iterator[str]:
    with DirectusClient(directus.url, auth=StaticToken(directus.admin_token)) as admin:
        record = admin.files.upload(make_png(64, 48), filename="gradient.png",
                                    data={"title": "Gradient"})
        yield str(record["id"])
        admin.files.delete(record["id"])


def test_width_gives_a_png_that_wide(directus_client: DirectusClient, image: str) -> None:
    original = directus_client.files.read_bytes(image)
    assert png_size(original) == (64, 48)
    assert png_size(directus_client.files.read_bytes(image, width=32)) == (32, 24)
    assert png_size(directus_client.files.read_bytes(
        image, width=20, height=20, fit="cover")) == (20, 20)
    # without_enlargement keeps the source size when asked for more.
    assert png_size(directus_client.files.read_bytes(
        image, width=128, without_enlargement=True)) == (64, 48)


def test_format_gives_other_bytes(directus_client: DirectusClient, image: str,
                                  tmp_path: Any) -> None:
    webp = directus_client.files.read_bytes(image, format="webp")
    assert webp[:4] == b"RIFF" and webp[8:12] == b"WEBP"
    jpeg = directus_client.files.read_bytes(image, format="jpg", quality=50)
    assert jpeg[:3] == b"\xff\xd8\xff"
    target = tmp_path / "small.png"
    written = directus_client.files.download(image, target, width=16, format="png")
    assert written == target.stat().st_size
    assert png_size(target.read_bytes()) == (16, 12)
    chunks = list(directus_client.files.iter_bytes(image, chunk_size=100, format="webp"))
    assert b"".join(chunks) == webp and max(len(c) for c in chunks) <= 100


def test_sharp_transforms_and_presets(directus_client: DirectusClient, image: str) -> None:
    rotated = directus_client.files.read_bytes(image, transforms=[["rotate", 90]])
    assert png_size(rotated) == (48, 64)
    flipped = directus_client.files.read_bytes(
        image, transforms=[["flip"], ["resize", {"width": 8, "height": 8, "fit": "fill"}]])
    assert png_size(flipped) == (8, 8)
    # A system preset by key: system-small-cover is 64x64 cover, in the source format here.
    small = directus_client.files.read_bytes(image, key="system-small-cover")
    assert small[:8] == b"\x89PNG\r\n\x1a\n" and png_size(small) == (64, 64)


def test_directus_refusals_are_invalid_request(directus_client: DirectusClient,
                                               image: str) -> None:
    # What only the server can know (its presets, its operation limit) comes back mapped.
    with pytest.raises(InvalidRequest, match="not-a-preset"):
        directus_client.files.read_bytes(image, key="not-a-preset")
    with pytest.raises(InvalidRequest, match="transformations"):
        directus_client.files.read_bytes(image, transforms=[["flip"]] * 6)


@pytest.mark.parametrize(("arguments", "named"), [
    ({"width": -1}, "width"),
    ({"width": 0}, "width"),
    ({"height": 2.5}, "height"),
    ({"width": True}, "width"),
    ({"quality": 101}, "quality"),
    ({"fit": "stretch", "width": 3}, "fit"),
    ({"fit": "cover"}, "fit"),
    ({"format": "gif"}, "format"),
    ({"format": 3}, "format"),
    ({"without_enlargement": "yes"}, "without_enlargement"),
    ({"focal_point_x": -5}, "focal_point_x"),
    ({"key": ""}, "key"),
    ({"transforms": "blur"}, "transforms"),
    ({"transforms": [["explode"]]}, r"transforms\[0\]"),
    ({"transforms": [[]]}, r"transforms\[0\]"),
    ({"transforms": [["blur", float("nan")]]}, r"transforms\[0\]\[1\]"),
    ({"transforms": [["blur", object()]]}, r"transforms\[0\]\[1\]"),
    ({"colour": "red"}, "colour"),
])
def test_bad_transforms_raise_before_any_request(directus: DirectusServer, image: str,
                                                 tmp_path: Any, arguments: dict[str, Any],
                                                 named: str) -> None:
    existing = tmp_path / "keep.png"
    existing.write_bytes(b"keep me")
    with FaultProxy(directus.url, lifetime=30) as proxy, \
            DirectusClient(proxy.url, auth=StaticToken(directus.admin_token)) as client:
        files = client.files
        calls = [
            lambda: files.read_bytes(image, **arguments),
            lambda: files.iter_bytes(image, **arguments),
            lambda: files.download(image, existing, **arguments),
            lambda: files.asset_url(image, **arguments),
        ]
        for call in calls:
            with pytest.raises(UsageError, match=named):
                call()
        assert proxy.seen == []
    assert existing.read_bytes() == b"keep me"


def test_asset_url_has_no_token_unless_asked(directus: DirectusServer,
                                             directus_client: DirectusClient,
                                             image: str) -> None:
    url = directus_client.files.asset_url(image, width=32, format="png")
    assert url.startswith(f"{directus.url}/assets/{image}?")
    assert directus.admin_token not in url and "access_token" not in url
    # Without a token (the file is not public) the URL is refused; with one it works.
    assert requests.get(url, timeout=10).status_code == 403
    signed = directus_client.files.asset_url(image, width=32, format="png",
                                             access_token=directus.admin_token)
    answer = requests.get(signed, timeout=10)
    assert answer.status_code == 200 and png_size(answer.content) == (32, 24)
    named = directus_client.files.asset_url(image, filename="my photo.png", download=True)
    assert named == f"{directus.url}/assets/{image}/my%20photo.png?download=true"
    with pytest.raises(UsageError, match="access_token"):
        directus_client.files.asset_url(image, access_token="")


def test_public_asset_url_and_reads(directus: DirectusServer, directus_client: DirectusClient,
                                    image: str) -> None:
    from pydirectus.testing.access import AccessGrants

    with AccessGrants(directus_client) as grants:
        public = grants.public_client({"directus_files": ["read"]})
        url = public.files.asset_url(image, width=10)
        answer = requests.get(url, timeout=10)
        assert answer.status_code == 200 and png_size(answer.content) == (10, 8)
        assert png_size(public.files.read_bytes(image, width=10)) == (10, 8)
