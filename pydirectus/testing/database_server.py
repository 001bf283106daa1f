"""What a throwaway database server for a local Directus shares, whatever its kind.

A fresh data directory in a temp dir, a free port on loopback (another tried when a
server took it between our probe and its bind), an unprivileged owner under root, the
settings Directus needs (``directus_env()``), a start error that quotes the server's log,
and ``stop()``: the whole process group ended and the folder deleted. Each kind
(``.postgres``, ``.mariadb``) says how to find, prepare, launch and probe its server.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from typing import ClassVar, TypeVar

from ..errors import ServerStartError
from .processes import LocalProcess, free_port, kill_group, log_tail

__all__ = ["DatabaseServer", "Owner"]

PORT_ATTEMPTS = 3
Owner = tuple[int, int] | None
D = TypeVar("D", bound="DatabaseServer")


class DatabaseServer(LocalProcess):
    """A database server we start in a fresh temp dir and stop with its process group."""

    #: its name in messages ("PostgreSQL") and Directus's DB_CLIENT for it ("pg")
    kind: ClassVar[str]
    db_client: ClassVar[str]
    #: how it is asked to shut down fast (then SIGKILL)
    stop_signal: ClassVar[int] = signal.SIGTERM

    def __init__(self, *, host: str, port: int | None, user: str, database: str,
                 max_connections: int, startup_timeout: float) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.user = user
        self.database = database
        self.max_connections = max_connections
        self.startup_timeout = startup_timeout
        self.password = secrets.token_urlsafe(16)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port or '(no port)'} {state}>"

    def directus_env(self) -> dict[str, str]:
        """Return the Directus settings (DB_CLIENT, host, port, ...) for this server."""
        if self.port is None:
            raise RuntimeError("the server has not been started")
        return {
            "DB_CLIENT": self.db_client,
            "DB_HOST": self.host,
            "DB_PORT": str(self.port),
            "DB_DATABASE": self.database,
            "DB_USER": self.user,
            "DB_PASSWORD": self.password,
        }

    def start(self: D) -> D:
        """Prepare a fresh data dir, start the server on a free port and wait until it is
        ready; the temp dir goes again if anything fails."""
        self._find_programs()
        owner = self._owner()
        self.workdir = Path(tempfile.mkdtemp(prefix=f"pydirectus-{self.log_name[:-4]}-"))
        try:
            if owner is not None:
                os.chown(self.workdir, *owner)
            self._prepare(owner)
            choose_port = self.port is None
            for attempt in range(1, PORT_ATTEMPTS + 1):
                if choose_port:
                    self.port = free_port(self.host)
                log_start = self.log_path.stat().st_size
                self._launch(owner)
                try:
                    self._wait_ready(log_start)
                    break
                except ServerStartError:
                    text = log_tail(self.log_path, log_start)
                    taken = "already in use" in text or "Address in use" in text
                    if not (choose_port and taken and attempt < PORT_ATTEMPTS):
                        raise
                    self._kill()
            self._started()
        except BaseException:
            self.stop()
            raise
        return self

    # What each kind of server does its own way.

    def _find_programs(self) -> None:
        raise NotImplementedError

    def _owner(self) -> Owner:
        raise NotImplementedError

    def _prepare(self, owner: Owner) -> None:
        raise NotImplementedError

    def _launch(self, owner: Owner) -> None:
        raise NotImplementedError

    def _wait_ready(self, log_start: int) -> None:
        raise NotImplementedError

    def _started(self) -> None:
        """Run once the server is ready (nothing by default)."""

    # Shared.

    def _fail(self, what: str, since: int = 0) -> None:
        tail = ""
        with contextlib.suppress(RuntimeError):
            tail = log_tail(self.log_path, since)
        raise ServerStartError(f"{what}; the {self.kind} log ends:\n{tail}")

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            kill_group(process, sig=self.stop_signal)

    def stop(self) -> None:
        """Stop the whole process group (its fast shutdown, then SIGKILL) and delete the
        temp dir."""
        self._kill()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
