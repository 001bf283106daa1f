"""A throwaway Redis on loopback, for Directus instances that share a cache and a bus."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from ..errors import RedisNotInstalled, ServerStartError
from .processes import LocalProcess, free_port, kill_group, log_tail

__all__ = ["RedisNotInstalled", "RedisServer", "find_redis_server"]


def find_redis_server() -> Path:
    """Return the redis-server program, or say how to install it."""
    explicit = os.environ.get("PYDIRECTUS_REDIS_SERVER")
    found = explicit if explicit and os.access(explicit, os.X_OK) else (
        None if explicit else shutil.which("redis-server"))
    if found is None:
        where = f"PYDIRECTUS_REDIS_SERVER={explicit} is not executable" if explicit else (
            "no redis-server on PATH")
        raise RedisNotInstalled(
            f"Redis is not installed ({where}): install it (Debian/Ubuntu: `sudo apt-get "
            "install redis-server`; macOS: `brew install redis`) or set "
            "PYDIRECTUS_REDIS_SERVER to its redis-server")
    return Path(found)


class RedisServer(LocalProcess):
    """Start a Redis with no persistence on 127.0.0.1 and a free port; stop its group."""

    log_name = "redis.log"

    def __init__(self, *, host: str = "127.0.0.1", startup_timeout: float = 30.0) -> None:
        super().__init__()
        self.host = host
        self.port: int | None = None
        self.startup_timeout = startup_timeout

    def __repr__(self) -> str:
        return f"<RedisServer {self.url if self.port else '(no port)'} " \
               f"{'running' if self.running else 'stopped'}>"

    @property
    def url(self) -> str:
        """Return the connection URL Directus's REDIS setting takes."""
        return f"redis://{self.host}:{self.port}"

    def start(self) -> RedisServer:
        """Start redis-server and wait until it answers PING."""
        program = find_redis_server()
        self.workdir = Path(tempfile.mkdtemp(prefix="pydirectus-redis-"))
        try:
            for attempt in range(3):
                self.port = free_port(self.host)
                log_start = self.log_path.stat().st_size if self.log_path.exists() else 0
                with self.log_path.open("ab") as log:
                    self._process = subprocess.Popen(
                        [str(program), "--bind", self.host, "--port", str(self.port),
                         "--save", "", "--appendonly", "no", "--dir", str(self.workdir)],
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
                if self._wait_ready():
                    return self
                taken = "Address already in use" in log_tail(self.log_path, log_start)
                kill_group(self._process)
                if not taken or attempt == 2:
                    raise ServerStartError(
                        f"redis-server did not answer; its log ends:\n{log_tail(self.log_path)}")
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                return False
            with contextlib.suppress(OSError), \
                    socket.create_connection((self.host, self.port or 0), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        """Stop the whole process group and delete the temp dir."""
        process, self._process = self._process, None
        if process is not None:
            kill_group(process)
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
