"""A real Directus on SQLite, PostgreSQL or MariaDB, on loopback, for tests, the demo and users'
tests."""

from __future__ import annotations

import contextlib
import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from .install import NodeRuntime, directus_cli, ensure_installed
from .mariadb import MariaDBServer, find_mariadb_bin
from .postgres import PostgresServer, find_postgres_bin
from .processes import LocalProcess, ServerStartError, free_port, kill_group, log_tail

__all__ = ["DATABASES", "WEBSOCKETS_ENV", "DirectusServer", "ServerStartError"]

PORT_ATTEMPTS = 3
DATABASES = ("sqlite", "postgresql", "mariadb")
#: A database server we can start, by the name DirectusServer(database=...) takes.
DatabaseServer = PostgresServer | MariaDBServer
_SERVERS: dict[str, type[PostgresServer] | type[MariaDBServer]] = {
    "postgresql": PostgresServer, "mariadb": MariaDBServer}
# Each one's programs, looked for before a long first install of Directus.
_FIND_PROGRAMS: dict[str, Callable[[], object]] = {
    "postgresql": find_postgres_bin, "mariadb": find_mariadb_bin}


def _free_port(host: str) -> int:
    return free_port(host)


def _check_database(database: object) -> str | DatabaseServer:
    if isinstance(database, PostgresServer | MariaDBServer):
        return database
    if isinstance(database, str) and database in DATABASES:
        return database
    raise ValueError(
        f"database must be one of {', '.join(map(repr, DATABASES))} or a running "
        f"PostgresServer or MariaDBServer, not {database!r}"
    )


#: what DirectusServer(websockets=True) sets: realtime on, every kind of token welcome
WEBSOCKETS_ENV = {
    "WEBSOCKETS_ENABLED": "true",
    "WEBSOCKETS_REST_ENABLED": "true",
    "WEBSOCKETS_REST_AUTH": "public",
    "WEBSOCKETS_HEARTBEAT_ENABLED": "true",
    # Neither is used by pydirectus; off, they add no timers to a test server.
    "WEBSOCKETS_LOGS_ENABLED": "false",
    "WEBSOCKETS_COLLAB_ENABLED": "false",
}


class DirectusServer(LocalProcess):
    """Start a throwaway Directus in a fresh temp dir; stop it with its whole process group.

    ``database="sqlite"`` (the default) keeps the data in a file in the temp dir;
    ``database="postgresql"`` (or ``"mariadb"``) starts a PostgresServer (a MariaDBServer)
    of its own and stops it afterwards; a running PostgresServer or MariaDBServer passed in
    is shared (several instances on one database) and left running.

    ``websockets=True`` turns realtime on (``WEBSOCKETS_ENABLED``, the REST-style
    endpoint at /websocket, heartbeat) in the ``public`` auth mode: a socket starts as
    Public and an auth message makes it the token's, so admin, API-only tokens and Public
    can all subscribe (``handshake``, Directus's default, closes a socket whose first
    message is not an auth: Public cannot subscribe there).

    >>> with DirectusServer(env={"ACCESS_TOKEN_TTL": "2s"}, websockets=True) as server:
    ...     server.url, server.admin_token
    """

    log_name = "directus.log"

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        admin_email: str = "admin@example.com",
        admin_password: str | None = None,
        admin_token: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        startup_timeout: float = 120.0,
        database: str | DatabaseServer = "sqlite",
        secret: str | None = None,
        bootstrap: bool = True,
        websockets: bool = False,
    ) -> None:
        super().__init__()
        self.websockets = websockets
        self._database = _check_database(database)
        # False: the shared database is already set up (a second instance on it).
        self.bootstrap = bootstrap
        self.extra_env = dict(env or {})
        self.admin_email = admin_email
        self.admin_password = admin_password or secrets.token_urlsafe(16)
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        # Instances behind one load balancer must share it: it signs their tokens.
        self._secret = secret or secrets.token_urlsafe(32)
        #: The database server under this Directus (None on SQLite): ours or shared.
        self.database_server: DatabaseServer | None = (
            None if isinstance(self._database, str) else self._database)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DirectusServer {self.url if self.port else '(no port)'} {state}>"

    @property
    def database(self) -> str:
        """Return the kind of database behind this server: "sqlite", "postgresql" or
        "mariadb"."""
        if isinstance(self._database, str):
            return self._database
        return next(name for name, kind in _SERVERS.items() if isinstance(self._database, kind))

    @property
    def postgres(self) -> PostgresServer | None:
        """Return the PostgreSQL server under this Directus, if it runs on one."""
        server = self.database_server
        return server if isinstance(server, PostgresServer) else None

    @property
    def mariadb(self) -> MariaDBServer | None:
        """Return the MariaDB server under this Directus, if it runs on one."""
        server = self.database_server
        return server if isinstance(server, MariaDBServer) else None

    @property
    def url(self) -> str:
        """Return the base URL, e.g. http://127.0.0.1:41234."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> DirectusServer:
        """Install if needed, bootstrap a fresh database and start; wait for /server/ping."""
        if isinstance(self._database, str) and self._database in _FIND_PROGRAMS:
            _FIND_PROGRAMS[self._database]()  # say now if they are missing
        runtime = NodeRuntime.find()
        install_dir = ensure_installed(runtime)
        self.workdir = Path(tempfile.mkdtemp(prefix="pydirectus-directus-"))
        try:
            if isinstance(self._database, str) and self._database in _SERVERS:
                self.database_server = _SERVERS[self._database]().start()
            self._start(runtime, install_dir)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, runtime: NodeRuntime, install_dir: Path) -> None:
        choose_port = self.port is None
        self.port = self.port or _free_port(self.host)
        process_env = runtime.environ()
        process_env["CONFIG_PATH"] = str(self._write_env_file())
        cli = [str(runtime.node), str(directus_cli(install_dir))]
        self.log_path.touch()
        if self.bootstrap:
            with self.log_path.open("ab") as log:
                bootstrap = subprocess.run(
                    [*cli, "bootstrap"], cwd=self.workdir, env=process_env, stdout=log,
                    stderr=subprocess.STDOUT, timeout=self.startup_timeout, check=False,
                )
            if bootstrap.returncode != 0:
                self._fail(f"directus bootstrap exited with {bootstrap.returncode}")
        self._launch(cli, process_env, choose_port)

    def restart(self) -> DirectusServer:
        """Stop Directus and start it again: same workdir, port and database (kept
        running), no bootstrap. Clients see their connections drop, then the same server."""
        if self._process is None or self.workdir is None:
            raise RuntimeError("DirectusServer.restart: the server is not running")
        self.stop_process()
        self.start_process()
        return self

    def stop_process(self) -> None:
        """Stop Directus only (its workdir and database stay): start_process() resumes it."""
        process, self._process = self._process, None
        if process is not None:
            kill_group(process)

    def start_process(self) -> None:
        """Start Directus again after stop_process() (same port, no bootstrap)."""
        if self._process is not None or self.workdir is None:
            raise RuntimeError("DirectusServer.start_process: stop_process() it first")
        runtime = NodeRuntime.find()
        process_env = runtime.environ()
        process_env["CONFIG_PATH"] = str(self.workdir / ".env")
        self._launch([str(runtime.node), str(directus_cli(ensure_installed(runtime)))],
                     process_env, choose_port=False)

    def _launch(self, cli: list[str], process_env: dict[str, str], choose_port: bool) -> None:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            if choose_port and attempt > 1:
                # Another process took the free port between our check and the listen.
                self.port = _free_port(self.host)
                self._write_env_file(rewrite=True)
            log_start = self.log_path.stat().st_size
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    [*cli, "start"], cwd=self.workdir, env=process_env, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            try:
                self._wait_ready()
                break
            except ServerStartError:
                stolen = self._port_was_taken(since=log_start)
                if not (choose_port and attempt < PORT_ATTEMPTS and stolen):
                    raise
                kill_group(self._process)

    def _port_was_taken(self, since: int) -> bool:
        text = log_tail(self.log_path, since)
        return "EADDRINUSE" in text or "already in use" in text

    def _database_env(self) -> dict[str, str]:
        assert self.workdir is not None
        if self.database_server is not None:
            return self.database_server.directus_env()
        return {"DB_CLIENT": "sqlite3", "DB_FILENAME": str(self.workdir / "data.db")}

    def _write_env_file(self, rewrite: bool = False) -> Path:
        assert self.workdir is not None
        settings = {
            "HOST": self.host,
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            **self._database_env(),
            "SECRET": self._secret,
            "ADMIN_EMAIL": self.admin_email,
            "ADMIN_PASSWORD": self.admin_password,
            "ADMIN_TOKEN": self.admin_token,
            "TELEMETRY": "false",
            "LOG_LEVEL": "warn",
            "STORAGE_LOCATIONS": "local",
            "STORAGE_LOCAL_ROOT": str(self.workdir / "uploads"),
            "EXTENSIONS_PATH": str(self.workdir / "extensions"),
            "RATE_LIMITER_ENABLED": "false",
            # Its 503 "Under pressure" trips on a busy two-core machine running the tests.
            "PRESSURE_LIMITER_ENABLED": "false",
            "CACHE_ENABLED": "false",
            **(WEBSOCKETS_ENV if self.websockets else {"WEBSOCKETS_ENABLED": "false"}),
            **self.extra_env,
        }
        (self.workdir / "uploads").mkdir(exist_ok=rewrite)
        (self.workdir / "extensions").mkdir(exist_ok=rewrite)
        path = self.workdir / ".env"
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        return path

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                code = self._process.returncode if self._process else None
                self._fail(f"directus start exited with {code}")
            # Ask with our admin token: a pong alone could come from another server that
            # took the port, while ours is failing to listen.
            request = urllib.request.Request(
                f"{self.url}/users/me?fields=id",
                headers={"Authorization": f"Bearer {self.admin_token}"})
            with contextlib.suppress(urllib.error.URLError, OSError), \
                    urllib.request.urlopen(request, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.2)
        self._fail(f"Directus did not answer within {self.startup_timeout:.0f} s")

    def _fail(self, what: str) -> None:
        tail = ""
        with contextlib.suppress(RuntimeError):
            tail = log_tail(self.log_path)
        raise ServerStartError(f"{what}; the server log ends:\n{tail}")

    def stop(self) -> None:
        """Stop the whole process group (SIGTERM, then SIGKILL) and delete the temp dir.

        A database server this server started goes too; a shared one passed in stays.
        """
        process, self._process = self._process, None
        if process is not None:
            kill_group(process)
        if isinstance(self._database, str) and self.database_server is not None:
            self.database_server.stop()
            self.database_server = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


