"""A throwaway MariaDB server on loopback, for a local Directus on MariaDB (DB_CLIENT=mysql).

``mariadb-install-db`` makes a fresh data directory in a temp dir; ``mariadbd`` serves it
on 127.0.0.1 and a free port, its Unix socket inside that dir. Under root both run as an
unprivileged system user (``mysql`` unless PYDIRECTUS_MARIADB_OS_USER names another), as
``runuser -u mysql --`` would. The server is configured as Debian's packaged one is
(utf8mb4, utf8mb4_general_ci: case-insensitive comparisons), so the tests meet what users
meet, with durability switched off (a test database never survives a crash anyway).
Over the socket, the OS user we run as (root, or ourselves) creates the database and a
password user for Directus. ``stop()`` ends the whole process group and deletes the folder.
"""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import MariaDBNotInstalled, ServerStartError
from .database_server import DatabaseServer, Owner
from .processes import as_owner, log_tail, unprivileged_owner

__all__ = ["MariaDBNotInstalled", "MariaDBServer", "find_mariadb_bin"]

#: The programs we run, each under its current name or the MySQL-era one it replaced.
PROGRAMS = {
    "install_db": ("mariadb-install-db", "mysql_install_db"),
    "server": ("mariadbd", "mysqld"),
    "client": ("mariadb", "mysql"),
}
INSTALL_HINT = (
    "install MariaDB (Debian/Ubuntu: `sudo apt-get install mariadb-server`; "
    "Fedora: `sudo dnf install mariadb-server`; macOS: `brew install mariadb`), "
    "or set PYDIRECTUS_MARIADB_BIN to the folder that holds its `mariadb-install-db`, "
    "`mariadbd` and `mariadb`"
)


def _folders() -> Iterator[Path]:
    explicit = os.environ.get("PYDIRECTUS_MARIADB_BIN")
    if explicit:
        yield Path(explicit)
        return
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if folder:
            yield Path(folder)
    # The server itself lives in sbin (off a normal user's PATH), or libexec on Fedora.
    yield from (Path(p) for p in ("/usr/sbin", "/usr/libexec", "/usr/local/sbin",
                                  "/usr/local/bin", "/opt/homebrew/bin"))


def _find(names: tuple[str, ...]) -> Path | None:
    for folder in _folders():
        for name in names:
            if os.access(folder / name, os.X_OK) and (folder / name).is_file():
                return folder / name
    return None


def find_mariadb_bin() -> dict[str, Path]:
    """Return MariaDB's install-db, server and client programs, or say how to install them."""
    found = {role: _find(names) for role, names in PROGRAMS.items()}
    missing = [names[0] for role, names in PROGRAMS.items() if found[role] is None]
    if missing:
        where = os.environ.get("PYDIRECTUS_MARIADB_BIN")
        place = f"in PYDIRECTUS_MARIADB_BIN={where}" if where else "on PATH or in /usr/sbin"
        raise MariaDBNotInstalled(
            f"MariaDB is not installed (no {', '.join(missing)} {place}): {INSTALL_HINT}")
    return {role: path for role, path in found.items() if path is not None}


def _run_as() -> tuple[int, int] | None:
    """Return the (uid, gid) to run MariaDB as, or None to run as ourselves."""
    return unprivileged_owner("PYDIRECTUS_MARIADB_OS_USER", "mysql", "mariadbd")


def _quote(text: str) -> str:
    """Return a MariaDB string literal (our own names and a urlsafe password, escaped anyway)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


class MariaDBServer(DatabaseServer):
    """Start a throwaway MariaDB in a fresh temp dir; stop it with its whole process group.

    >>> with MariaDBServer() as db:
    ...     db.directus_env()   # DB_CLIENT=mysql and the connection settings
    """

    log_name = "mariadb.log"
    kind = "MariaDB"
    db_client = "mysql"
    # SIGTERM is mariadbd's normal shutdown (InnoDB flushes nothing we keep).
    stop_signal = signal.SIGTERM

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        user: str = "directus",
        database: str = "directus",
        max_connections: int = 200,
        startup_timeout: float = 60.0,
    ) -> None:
        super().__init__(host=host, port=port, user=user, database=database,
                         max_connections=max_connections, startup_timeout=startup_timeout)
        self.programs: dict[str, Path] = {}
        #: how often mariadbd crashed and was started again (see ``_supervise``)
        self.crashes = 0
        self._supervisor: threading.Thread | None = None
        # Held while the process is replaced (by a restart, or by stop()'s kill).
        self._replacing = threading.Lock()

    @property
    def socket_path(self) -> Path:
        """Return the server's Unix socket (in its temp dir); the admin account uses it."""
        if self.workdir is None:
            raise RuntimeError("the server has not been started")
        return self.workdir / "sock"

    def _find_programs(self) -> None:
        self.programs = find_mariadb_bin()

    def _owner(self) -> Owner:
        return _run_as()

    def _started(self) -> None:
        self._create_database()
        assert self._process is not None
        self._supervisor = threading.Thread(target=self._supervise, args=(self._process,),
                                            name=f"mariadbd-{self.port}", daemon=True)
        self._supervisor.start()

    def _supervise(self, process: subprocess.Popen[bytes]) -> None:
        # As Debian's packaged service does (systemd Restart=on-abort): a mariadbd that dies
        # on its own is started again on the same data and port, and InnoDB recovers it.
        # MariaDB 10.11 can crash (signal 11, in its INFORMATION_SCHEMA code) when Directus
        # reads the schema while another request alters it; without this, every later
        # request of the test run fails against a dead database.
        while True:
            process.wait()
            with self._replacing:
                if self._process is not process or self.workdir is None:
                    return  # stopped by stop(): not a crash
                self.crashes += 1
                try:
                    with self.log_path.open("ab") as log:
                        log.write(f"pydirectus: mariadbd exited with {process.returncode} "
                                  f"(crash {self.crashes}); starting it again on the same "
                                  f"data\n".encode())
                    log_start = self.log_path.stat().st_size
                    self._launch(self._owner())
                except OSError:
                    return
                process = self._process
            try:
                self._wait_ready(log_start)
            except ServerStartError:
                return  # the log says why; requests fail as they would without a restart

    def _kill(self) -> None:
        with self._replacing:
            super()._kill()

    def _prepare(self, owner: Owner) -> None:
        assert self.workdir is not None
        # The account that may log in over the socket without a password: the OS user
        # that runs the client below (root@localhost is made either way).
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                [str(self.programs["install_db"]), "--no-defaults",
                 f"--datadir={self.workdir / 'data'}",
                 "--auth-root-authentication-method=socket",
                 f"--auth-root-socket-user={_os_user()}", "--skip-test-db"],
                stdout=log, stderr=subprocess.STDOUT, env=_subprocess_env(),
                cwd=self.workdir, timeout=self.startup_timeout, check=False,
                **as_owner(owner),
            )
        if result.returncode != 0:
            self._fail(f"mariadb-install-db exited with {result.returncode}")

    def _launch(self, owner: Owner) -> None:
        assert self.workdir is not None
        # Its own folder for internal temporary tables (the INFORMATION_SCHEMA reads of
        # Directus use them), not the /tmp every other server and test shares.
        scratch = self.workdir / "tmp"
        scratch.mkdir(exist_ok=True)
        if owner is not None:
            os.chown(scratch, *owner)
        settings = {
            "tmpdir": str(scratch),
            "datadir": str(self.workdir / "data"),
            "port": str(self.port),
            "bind-address": self.host,
            "socket": str(self.socket_path),
            "pid-file": str(self.workdir / "mariadbd.pid"),
            "max-connections": str(self.max_connections),
            # Debian's packaged server (50-server.cnf): utf8mb4 and its general collation.
            "character-set-server": "utf8mb4",
            "collation-server": "utf8mb4_general_ci",
            "skip-name-resolve": None,
            "innodb-flush-log-at-trx-commit": "0",
            "innodb-doublewrite": "0",
            "sync-frm": "0",
        }
        options = [f"--{key}" if value is None else f"--{key}={value}"
                   for key, value in settings.items()]
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                # --no-defaults must come first: no my.cnf of the machine applies.
                [str(self.programs["server"]), "--no-defaults", *options],
                stdout=log, stderr=subprocess.STDOUT, env=_subprocess_env(),
                cwd=self.workdir, start_new_session=True,
                **as_owner(owner),
            )

    def _client(self, sql: str) -> subprocess.CompletedProcess[bytes]:
        # The statements go on stdin: the password never shows in a process list.
        return subprocess.run(
            [str(self.programs["client"]), "--no-defaults", f"--socket={self.socket_path}",
             f"--user={_os_user()}", "--batch", "--skip-column-names"],
            input=sql.encode(), capture_output=True, env=_subprocess_env(),
            timeout=30, check=False)

    def _wait_ready(self, log_start: int) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = self._process.returncode if self._process else None
                self._fail(f"mariadbd exited with {code}", log_start)
            # Our socket is in our own temp dir: an answer on it is our server's.
            if "ready for connections" in log_tail(self.log_path, log_start) and \
                    self._client("SELECT 1").returncode == 0:
                return
            time.sleep(0.1)
        self._fail(f"MariaDB did not accept connections within {self.startup_timeout:.0f} s",
                   log_start)

    def _create_database(self) -> None:
        database, user = self.database.replace("`", "``"), _quote(self.user)
        result = self._client(
            f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;\n"
            f"CREATE USER {user}@'%' IDENTIFIED BY {_quote(self.password)};\n"
            f"GRANT ALL PRIVILEGES ON `{database}`.* TO {user}@'%';\n")
        if result.returncode != 0:
            error = result.stderr.decode(errors="replace").strip()
            raise ServerStartError(
                f"MariaDB could not create the database {self.database!r} and user "
                f"{self.user!r}: {error}")


def _os_user() -> str:
    """Return the OS user the client runs as: its socket account has the same name."""
    return "root" if os.geteuid() == 0 else getpass.getuser()


def _subprocess_env() -> dict[str, str]:
    # MYSQL_* variables (a password, a host, a TCP port) would redirect our client.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MYSQL")}
    env.setdefault("LC_ALL", "C.UTF-8")
    return env
