"""A real Directus on SQLite, on loopback, for tests, the demo and users' own integration tests."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from .install import NodeRuntime, directus_cli, ensure_installed

__all__ = ["DirectusServer", "ServerStartError"]

LOG_TAIL_CHARS = 4000
PORT_ATTEMPTS = 3


class ServerStartError(RuntimeError):
    """The local Directus did not start; the message quotes the end of its log."""


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class DirectusServer:
    """Start a throwaway Directus in a fresh temp dir; stop it with its whole process group.

    >>> with DirectusServer(env={"ACCESS_TOKEN_TTL": "2s"}) as server:
    ...     server.url, server.admin_token
    """

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
    ) -> None:
        self.extra_env = dict(env or {})
        self.admin_email = admin_email
        self.admin_password = admin_password or secrets.token_urlsafe(16)
        self.admin_token = admin_token or secrets.token_urlsafe(24)
        self.host = host
        self.port = port
        self.startup_timeout = startup_timeout
        self._secret = secrets.token_urlsafe(32)
        self.workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<DirectusServer {self.url if self.port else '(no port)'} {state}>"

    @property
    def url(self) -> str:
        """Return the base URL, e.g. http://127.0.0.1:41234."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        """Return whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """Return the server's process id (also its process group id)."""
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path:
        """Return the file that collects the server's stdout and stderr."""
        if self.workdir is None:
            raise RuntimeError("the server has not been started")
        return self.workdir / "directus.log"

    def start(self) -> DirectusServer:
        """Install if needed, bootstrap a fresh database and start; wait for /server/ping."""
        runtime = NodeRuntime.find()
        install_dir = ensure_installed(runtime)
        self.workdir = Path(tempfile.mkdtemp(prefix="pydirectus-directus-"))
        choose_port = self.port is None
        self.port = self.port or _free_port(self.host)
        process_env = runtime.environ()
        process_env["CONFIG_PATH"] = str(self._write_env_file())
        cli = [str(runtime.node), str(directus_cli(install_dir))]
        try:
            with self.log_path.open("ab") as log:
                bootstrap = subprocess.run(
                    [*cli, "bootstrap"], cwd=self.workdir, env=process_env, stdout=log,
                    stderr=subprocess.STDOUT, timeout=self.startup_timeout, check=False,
                )
            if bootstrap.returncode != 0:
                self._fail(f"directus bootstrap exited with {bootstrap.returncode}")
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
                    _kill_group(self._process)
        except BaseException:
            self.stop()
            raise
        return self

    def _port_was_taken(self, since: int) -> bool:
        with self.log_path.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        return "EADDRINUSE" in text or "already in use" in text

    def _write_env_file(self, rewrite: bool = False) -> Path:
        assert self.workdir is not None
        settings = {
            "HOST": self.host,
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            "DB_CLIENT": "sqlite3",
            "DB_FILENAME": str(self.workdir / "data.db"),
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
            "WEBSOCKETS_ENABLED": "false",
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
        with contextlib.suppress(OSError, RuntimeError):
            tail = self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]
        raise ServerStartError(f"{what}; the server log ends:\n{tail}")

    def stop(self) -> None:
        """Stop the whole process group (SIGTERM, then SIGKILL) and delete the temp dir."""
        process, self._process = self._process, None
        if process is not None:
            _kill_group(process)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> DirectusServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_group(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    pgid = process.pid  # start_new_session made the server its own group leader
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
    # Children (workers) may outlive the leader: make sure the group is gone.
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=grace)
