"""The @directus/sdk commands pydirectus added last, against a real Directus 12.4.0.

Mail (registration, share invitations) goes to a fake sendmail (EMAIL_TRANSPORT=sendmail,
EMAIL_SENDMAIL_PATH) that writes each message to a file: the verification token the test
uses is the one Directus emailed, read from that file, not one signed here.
"""

from __future__ import annotations

import email
import io
import json
import re
import stat
import tarfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pydirectus import DirectusClient, Password, ShareLogin, StaticToken
from pydirectus.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    ServerError,
    UsageError,
)
from pydirectus.testing import DirectusServer
from pydirectus.testing.access import AccessGrants
from pydirectus.testing.collections import CollectionFactory
from pydirectus.testing.collections import unique_name as unique
from pydirectus.testing.pytest_plugin import running

#: how long a mail may take to reach the fake sendmail (Directus sends some in the background)
MAIL_WAIT = 60.0


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory the fake sendmail writes one file per message into."""
    return tmp_path_factory.mktemp("outbox")


class FakeRegistry:
    """A marketplace registry on loopback offering one hook extension (one version), and
    recording the paths Directus asked it for."""

    EXTENSION = str(uuid.uuid4())
    VERSION = str(uuid.uuid4())
    API_VERSION = "2024-01-29"  # what @directus/extensions-registry in 12.4.0 expects

    def __init__(self) -> None:
        self.asked: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.asked.append(self.path)
                status, body, kind = registry.answer(self.path.split("?")[0])
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, path: str) -> tuple[int, bytes, str]:
        if path == "/version":
            return 200, json.dumps({"version": self.API_VERSION}).encode(), "application/json"
        if path == f"/extensions/{self.EXTENSION}":
            return 200, json.dumps({"data": self.description()}).encode(), "application/json"
        if path == f"/download/{self.VERSION}":
            return 200, self.tarball(), "application/octet-stream"
        return 404, b'{"errors": [{"message": "not found"}]}', "application/json"

    def description(self) -> dict[str, object]:
        publisher = {"id": str(uuid.uuid4()), "username": "tester", "verified": False,
                     "github_name": None, "github_avatar_url": None}
        return {"id": self.EXTENSION, "name": "directus-extension-probe", "description": None,
                "total_downloads": 0, "downloads": None, "verified": False, "readme": None,
                "type": "hook", "license": "MIT", "versions": [{
                    "id": self.VERSION, "version": "1.0.0", "verified": False, "type": "hook",
                    "host_version": "^12.0.0", "publish_date": "2026-01-01T00:00:00.000Z",
                    "unpacked_size": 100, "file_count": 2, "url_bugs": None,
                    "url_homepage": None, "url_repository": None, "license": "MIT",
                    "publisher": publisher, "bundled": [], "maintainers": None}]}

    @staticmethod
    def tarball() -> bytes:
        files = {
            "package/package.json": json.dumps({
                "name": "directus-extension-probe", "version": "1.0.0", "type": "module",
                "directus:extension": {"type": "hook", "path": "dist/index.js",
                                       "source": "src/index.js", "host": "^12.0.0"}}),
            "package/dist/index.js": "export default () => {};\n",
        }
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, text in files.items():
                data = text.encode()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
        return buffer.getvalue()


@pytest.fixture(scope="module")
def registry() -> Iterator[FakeRegistry]:
    fake = FakeRegistry()
    fake.thread.start()
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


@pytest.fixture(scope="module")
def mail_server(directus_database: str, outbox: Path, registry: FakeRegistry,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[DirectusServer]:
    """One Directus for this module that 'sends' mail through the fake sendmail and takes
    extensions from the fake registry."""
    script = tmp_path_factory.mktemp("bin") / "sendmail"
    script.write_text(f'#!/bin/sh\ncat > "{outbox}/mail.$$.$(date +%s%N).eml"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = {"EMAIL_TRANSPORT": "sendmail", "EMAIL_SENDMAIL_PATH": str(script),
           "EMAIL_SENDMAIL_NEW_LINE": "unix", "EMAIL_FROM": "directus@example.com",
           "MARKETPLACE_REGISTRY": registry.url, "MARKETPLACE_TRUST": "all"}
    with running(DirectusServer(env=env, database=directus_database)) as server:
        yield server


@pytest.fixture
def mail_admin(mail_server: DirectusServer, make_client: Callable[..., DirectusClient]
               ) -> DirectusClient:
    return make_client(mail_server.url, auth=StaticToken(mail_server.admin_token))


def _text(message: Message) -> str:
    """Return every text part of a mail, decoded (quoted-printable and all)."""
    parts: list[str] = []
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return "\n".join(parts)


def mails_to(outbox: Path, address: str, count: int = 1) -> list[str]:
    """Wait for `count` mails to `address`; return their text."""
    deadline = time.monotonic() + MAIL_WAIT
    while True:
        found = []
        for path in sorted(outbox.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes())
            if address in str(message.get("To", "")):
                found.append(_text(message))
        if len(found) >= count or time.monotonic() > deadline:
            assert len(found) >= count, f"{len(found)} mail(s) to {address}, wanted {count}"
            return found
        time.sleep(0.2)


def test_register_then_verify_email(mail_server: DirectusServer, mail_admin: DirectusClient,
                                    make_client: Callable[..., DirectusClient],
                                    outbox: Path) -> None:
    admin = mail_admin
    role = admin.roles.create({"name": unique("verified")})
    address = f"{unique('verify')}@example.com"
    before = admin.settings.get({"fields": ["public_registration", "public_registration_role",
                                            "public_registration_verify_email"]})
    try:
        admin.settings.update({"public_registration": True,
                               "public_registration_role": role["id"],
                               "public_registration_verify_email": True})
        anonymous = make_client(mail_server.url)
        anonymous.users.register(address, "verify-password-1")
        user = admin.users.filter(email=address).fields("id", "status").first()
        assert user is not None and user["status"] == "unverified"
        [mail] = mails_to(outbox, address)
        link = re.search(r"/users/register/verify-email\?token=([A-Za-z0-9._-]+)", mail)
        assert link is not None, mail
        token = link.group(1)

        assert anonymous.users.register_verify(token) == user["id"]
        assert admin.users.get(user["id"])["status"] == "active"
        with DirectusClient(mail_server.url, auth=Password(address, "verify-password-1")) as me:
            assert me.users.me()["id"] == user["id"]
        # Used: the user is no longer unverified.
        with pytest.raises(InvalidRequest, match="Invalid verification code"):
            anonymous.users.register_verify(token)
        forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        with pytest.raises(AuthenticationError) as refused:
            anonymous.users.register_verify(forged)
        assert forged not in str(refused.value)
        with pytest.raises(UsageError, match="token"):
            anonymous.users.register_verify("")
    finally:
        admin.settings.update(dict(before))
        admin.users.filter(email=address).delete()
        admin.roles.delete(role["id"])


def test_share_invite_mails_a_link(mail_server: DirectusServer, mail_admin: DirectusClient,
                                   make_client: Callable[..., DirectusClient],
                                   outbox: Path) -> None:
    admin = mail_admin
    factory = CollectionFactory(mail_server.url, mail_server.admin_token)
    try:
        name = factory({"title": "string"}, prefix="shared")
        pk = admin.collection(name).create({"title": "to share"})["id"]
        share = admin.shares.create({"collection": name, "item": str(pk), "name": "s"})
        first, second = (f"{unique(who)}@example.com" for who in ("ann", "bob"))
        admin.shares.invite(share["id"], [first, second])
        for address in (first, second):
            [mail] = mails_to(outbox, address)
            assert f"/admin/shared/{share['id']}" in mail
        # An API-only user who may read the share invites too.
        with AccessGrants(admin) as grants:
            api = grants.api_client({"directus_shares": ["read"], name: ["read"]})
            third = f"{unique('cy')}@example.com"
            api.shares.invite(share["id"], third)
            assert f"/admin/shared/{share['id']}" in mails_to(outbox, third)[0]
            public = grants.public_client({name: ["read"]})
            with pytest.raises(PermissionDenied):
                public.shares.invite(share["id"], third)
        for wrong, what in (([], "emails"), (["not-an-address"], r"emails\[0\]"),
                            ("x@example.com", "share")):
            with pytest.raises(UsageError, match=what):
                admin.shares.invite("nope" if what == "share" else share["id"], wrong)
    finally:
        factory.drop_all()


def test_share_authenticate_gives_a_share_scoped_client(
        directus_client: DirectusClient, make_collection: Callable[..., str],
        make_client: Callable[..., DirectusClient], access_grants: AccessGrants) -> None:
    admin = directus_client
    name = make_collection({"title": "string"})
    shared, other = (admin.collection(name).create({"title": t})["id"] for t in ("yes", "no"))
    # A share sees what both its role and its creator may see, narrowed to its item.
    role = admin.users.me(fields=["role"])["role"]
    share = admin.shares.create({"collection": name, "item": str(shared), "name": "pw",
                                 "role": role, "password": "share-secret-1"})
    # Logging in needs no token: an API-only client does it as well as any.
    owner = access_grants.api_client({"directus_shares": ["read"]})
    strategy = owner.shares.authenticate(share["id"], password="share-secret-1")
    assert isinstance(strategy, ShareLogin) and strategy.logins == 1
    token = strategy.access_token
    assert token and token not in repr(strategy) and "share-secret-1" not in repr(strategy)
    guest = make_client(admin.url, auth=strategy)
    assert [row["id"] for row in guest.collection(name).all()] == [shared]
    assert guest.collection(name).get(shared)["title"] == "yes"
    with pytest.raises((PermissionDenied, NotFound)):
        guest.collection(name).get(other)
    with pytest.raises(AuthenticationError) as refused:
        owner.shares.authenticate(share["id"], password="wrong-password-9")
    assert refused.value.code == "INVALID_CREDENTIALS"
    assert "wrong-password-9" not in str(refused.value)
    # A ShareLogin made directly logs in on first use; close() logs it out.
    lazy = make_client(admin.url, auth=ShareLogin(share["id"], "share-secret-1"))
    assert list(lazy.collection(name).values_list("id", flat=True)) == [shared]
    with pytest.raises(UsageError, match="share"):
        admin.shares.authenticate("not-a-uuid")
    with pytest.raises(UsageError, match="password"):
        admin.shares.authenticate(share["id"], password="")
    admin.shares.delete(share["id"])


def test_extension_registry_refusals_are_clear(directus_client: DirectusClient,
                                               access_grants: AccessGrants) -> None:
    admin = directus_client
    extension, version = str(uuid.uuid4()), str(uuid.uuid4())
    # The test server has no internet: the registry cannot be reached (install asks it
    # for the extension's versions first, as Directus does, which says so).
    with pytest.raises(ServerError) as refused:
        admin.extensions.install(extension, version)
    assert refused.value.code == "SERVICE_UNAVAILABLE" and "registry" in str(refused.value)
    for read in (lambda: admin.extensions.registry("seo", sort="popular", type="interface"),
                 lambda: admin.extensions.registry_extension(extension),
                 lambda: admin.extensions.registry_account(extension)):
        with pytest.raises(ServerError) as unreachable:
            read()
        assert unreachable.value.code == "SERVICE_UNAVAILABLE"
        assert "registry" in str(unreachable.value)
    with pytest.raises(NotFound, match=extension):
        admin.extensions.uninstall(extension)
    with pytest.raises(NotFound, match=extension):
        admin.extensions.delete(extension)
    with pytest.raises(NotFound, match=extension):
        admin.extensions.reinstall(extension)
    api = access_grants.api_client({"directus_extensions": ["read"]})
    with pytest.raises(PermissionDenied, match="admin"):
        api.extensions.install(extension, version)
    with pytest.raises(PermissionDenied, match="admin"):
        api.extensions.registry()
    for call, what in ((lambda: admin.extensions.install("x", version), "extension"),
                       (lambda: admin.extensions.install(extension, ""), "version"),
                       (lambda: admin.extensions.uninstall(None), "extension")):
        with pytest.raises(UsageError, match=what):
            call()


def test_collections_update_many(directus_client: DirectusClient,
                                 make_collection: Callable[..., str]) -> None:
    admin = directus_client
    first, second = make_collection({"title": "string"}), make_collection({"title": "string"})
    updated = admin.collections.update_many({first: {"note": "one"}, second: {"note": "two"}})
    assert {row["collection"]: row["meta"]["note"] for row in updated} == {
        first: "one", second: "two"}
    assert admin.collections.get(second)["meta"]["note"] == "two"
    for wrong, what in (({}, "changes"), ({first: "x"}, "changes"), ({"": {}}, "changes key")):
        with pytest.raises(UsageError, match=what):
            admin.collections.update_many(wrong)


def test_fields_update_many(directus_client: DirectusClient,
                            make_collection: Callable[..., str]) -> None:
    admin = directus_client
    name = make_collection({"title": "string", "body": "text"})
    updated = admin.fields.update_many(name, {"title": {"meta": {"note": "the title"}},
                                              "body": {"meta": {"note": "the body"}}})
    assert {row["field"]: row["meta"]["note"] for row in updated} == {
        "title": "the title", "body": "the body"}
    assert admin.fields.get(name, "body")["meta"]["note"] == "the body"
    with pytest.raises(NotFound, match="'missing'"):
        admin.fields.update_many(name, {"title": {"meta": {"note": "changed"}},
                                        "missing": {"meta": {"note": "x"}}})
    assert admin.fields.get(name, "title")["meta"]["note"] == "the title"
    assert "missing" not in {field["field"] for field in admin.fields.all(name)}
    for wrong, what in (({}, "changes"), ({"title": {"field": "other"}}, "renamed"),
                        ({"title": None}, "changes")):
        with pytest.raises(UsageError, match=what):
            admin.fields.update_many(name, wrong)



def test_extension_install_and_uninstall_through_a_registry(
        mail_admin: DirectusClient, registry: FakeRegistry) -> None:
    admin = mail_admin
    extension, version = registry.EXTENSION, registry.VERSION
    described = admin.extensions.registry_extension(extension)
    assert [v["id"] for v in described["versions"]] == [version]
    with pytest.raises(NotFound, match=r"versions: 1\.0\.0"):
        admin.extensions.install(extension, str(uuid.uuid4()))
    asked = len(registry.asked)
    admin.extensions.install(extension, version)
    try:
        # The server fetched what the request named: the extension, then that version.
        assert f"/extensions/{extension}" in registry.asked[asked:]
        assert f"/download/{version}" in registry.asked[asked:]
        installed = admin.extensions.get(extension)
        assert installed["meta"]["source"] == "registry"
        assert installed["meta"]["enabled"] is True
        downloads = registry.asked.count(f"/download/{version}")
        admin.extensions.reinstall(extension)
        assert registry.asked.count(f"/download/{version}") == downloads + 1
    finally:
        admin.extensions.uninstall(extension)
    assert extension not in [record["id"] for record in admin.extensions.list()]
    with pytest.raises(NotFound, match=extension):
        admin.extensions.uninstall(extension)
