"""A throwaway PostgreSQL server on loopback, for a local Directus on PostgreSQL.

PostgreSQL refuses to run as root, so under root the server runs as an unprivileged
system user (``postgres`` unless PYDIRECTUS_PG_OS_USER names another) in a fresh data
directory that user owns. It listens on 127.0.0.1 only (no Unix socket), on a free port,
with durability switched off (fsync, synchronous_commit): a test database never
survives a crash anyway. ``stop()`` ends its whole process group and deletes the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import PostgresNotInstalled
from .database_server import DatabaseServer, Owner
from .processes import as_owner, log_tail, unprivileged_owner

__all__ = ["PostgresNotInstalled", "PostgresServer", "find_postgres_bin"]

INSTALL_HINT = (
    "install PostgreSQL (Debian/Ubuntu: `sudo apt-get install postgresql`; "
    "Fedora: `sudo dnf install postgresql-server`; macOS: `brew install postgresql@15`), "
    "or set PYDIRECTUS_PG_BIN to the folder that holds its `initdb` and `postgres`"
)


def _candidates() -> Iterator[Path]:
    explicit = os.environ.get("PYDIRECTUS_PG_BIN")
    if explicit:
        yield Path(explicit)
        return
    # Debian and Ubuntu keep the server programs off PATH, one folder per major version.
    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for program in ("initdb", "pg_ctl", "postgres"):
        found = shutil.which(program)
        if found:
            yield Path(found).resolve().parent
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                 timeout=10, check=True)
            yield Path(out.stdout.strip())


def find_postgres_bin() -> Path:
    """Return the folder holding PostgreSQL's initdb and postgres, or say how to install it."""
    for folder in _candidates():
        if all(os.access(folder / name, os.X_OK) for name in ("initdb", "postgres")):
            return folder
    where = os.environ.get("PYDIRECTUS_PG_BIN")
    found = f"PYDIRECTUS_PG_BIN={where} has no initdb and postgres" if where else (
        "no initdb and postgres under /usr/lib/postgresql/*/bin, on PATH or from pg_config")
    raise PostgresNotInstalled(f"PostgreSQL is not installed ({found}): {INSTALL_HINT}")


def _run_as() -> tuple[int, int] | None:
    """Return the (uid, gid) to run PostgreSQL as, or None to run as ourselves."""
    return unprivileged_owner("PYDIRECTUS_PG_OS_USER", "postgres", "PostgreSQL")


class PostgresServer(DatabaseServer):
    """Start a throwaway PostgreSQL in a fresh temp dir; stop it with its whole process group.

    >>> with PostgresServer() as pg:
    ...     pg.directus_env()   # DB_CLIENT=pg and the connection settings
    """

    log_name = "postgres.log"
    kind = "PostgreSQL"
    db_client = "pg"
    # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to leave.
    stop_signal = signal.SIGINT

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        user: str = "directus",
        database: str = "postgres",
        max_connections: int = 100,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(host=host, port=port, user=user, database=database,
                         max_connections=max_connections, startup_timeout=startup_timeout)
        self.bin_dir: Path | None = None

    def _find_programs(self) -> None:
        self.bin_dir = find_postgres_bin()

    def _owner(self) -> Owner:
        return _run_as()

    def _subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.setdefault("LC_ALL", "C.UTF-8")
        return env

    def _prepare(self, owner: Owner) -> None:
        assert self.workdir is not None and self.bin_dir is not None
        pwfile = self.workdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        if owner is not None:
            os.chown(pwfile, *owner)
        # C.UTF-8: code-point order (as SQLite's BINARY collation) and Unicode lower()
        # (which Directus's _icontains relies on); plain C where that locale is missing.
        for locale in ("C.UTF-8", "C"):
            with self.log_path.open("ab") as log:
                result = subprocess.run(
                    [str(self.bin_dir / "initdb"), "--pgdata", str(self.workdir / "data"),
                     "--username", self.user, "--pwfile", str(pwfile),
                     "--auth-host", "scram-sha-256", "--auth-local", "scram-sha-256",
                     "--encoding", "UTF8", "--locale", locale, "--no-sync"],
                    stdout=log, stderr=subprocess.STDOUT, env=self._subprocess_env(),
                    timeout=self.startup_timeout, check=False,
                    **as_owner(owner),
                )
            if result.returncode == 0:
                break
            shutil.rmtree(self.workdir / "data", ignore_errors=True)
        else:
            self._fail(f"initdb exited with {result.returncode}")
        pwfile.unlink()

    def _launch(self, owner: Owner) -> None:
        assert self.workdir is not None and self.bin_dir is not None
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": "",
            "max_connections": str(self.max_connections),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
        }
        options = [item for key, value in settings.items() for item in ("-c", f"{key}={value}")]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.bin_dir / "postgres"), "-D", str(self.workdir / "data"), *options],
                stdout=log, stderr=subprocess.STDOUT, env=self._subprocess_env(),
                start_new_session=True,
                **as_owner(owner),
            )

    def _wait_ready(self, log_start: int) -> None:
        assert self.bin_dir is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = self._process.returncode if self._process else None
                self._fail(f"postgres exited with {code}", log_start)
            # pg_isready with our port alone could hear another server that took it:
            # the log line is our own postmaster's.
            if "ready to accept connections" in log_tail(self.log_path, log_start):
                ready = subprocess.run(
                    [str(self.bin_dir / "pg_isready"), "-q", "-h", self.host, "-p",
                     str(self.port), "-U", self.user, "-d", self.database],
                    env=self._subprocess_env(), timeout=10, check=False)
                if ready.returncode == 0:
                    return
            time.sleep(0.1)
        self._fail(f"PostgreSQL did not accept connections within {self.startup_timeout:.0f} s",
                   log_start)
