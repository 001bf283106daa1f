"""What every local server shares: free ports, log tails, stopping a whole process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from ..errors import ServerStartError

__all__ = ["LocalProcess", "ServerStartError", "Service", "as_owner", "free_port", "kill_group",
           "log_tail", "unprivileged_owner"]

S = TypeVar("S", bound="Service")

LOG_TAIL_CHARS = 4000


def free_port(host: str) -> int:
    """Return a port that nothing listens on right now (it may be taken before we bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path | None, since: int = 0, chars: int | None = LOG_TAIL_CHARS) -> str:
    """Return the end of a log file (from byte `since`; its last `chars` characters, or all
    of it for None), or "" when it cannot be read."""
    if path is None:
        return ""
    with contextlib.suppress(OSError), path.open("rb") as log:
        log.seek(since)
        text = log.read().decode(errors="replace")
        return text if chars is None else text[-chars:]
    return ""


def kill_group(
    process: subprocess.Popen[bytes], grace: float = 10.0, sig: int = signal.SIGTERM,
) -> None:
    """Signal a process group (its leader started with start_new_session), then SIGKILL it."""
    if process.poll() is not None:
        # The leader has exited and is reaped: once its group is empty the number may belong
        # to another process group (PIDs wrap at pid_max on a busy test machine, and our
        # servers all lead groups), so signal nothing rather than maybe a stranger.
        return
    pgid = process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
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


def unprivileged_owner(variable: str, default: str, program: str) -> tuple[int, int] | None:
    """Return the (uid, gid) a database server that refuses root runs as, or None to run as
    ourselves (not root): the user `variable` names, else `default`."""
    if os.geteuid() != 0:
        return None
    import pwd

    name = os.environ.get(variable, default)
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise ServerStartError(
            f"{program} refuses to run as root and there is no user {name!r} to run it as: "
            f"create one (`useradd --system {default}`) or set {variable}"
        ) from None
    return entry.pw_uid, entry.pw_gid


def as_owner(owner: tuple[int, int] | None) -> dict[str, Any]:
    """Return subprocess's user/group arguments to run as `owner` (None: as ourselves)."""
    if owner is None:
        return {}
    # Drop root's supplementary groups along with its uid.
    return {"user": owner[0], "group": owner[1], "extra_groups": []}


class Service:
    """Something tests start and stop: ``with`` starts it and stops it however the block ends."""

    def start(self: S) -> S:
        """Start the server; subclasses say how."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server; subclasses say how."""
        raise NotImplementedError

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class LocalProcess(Service):
    """A server we start in its own process group, with a temp dir holding its log."""

    log_name = "server.log"

    def __init__(self) -> None:
        self.workdir: Path | None = None
        self._process: subprocess.Popen[bytes] | None = None

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
        """Return the file in the temp dir that collects the server's output."""
        if self.workdir is None:
            raise RuntimeError("the server has not been started")
        return self.workdir / self.log_name
