"""What every local server shares: free ports, log tails, stopping a whole process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["ServerStartError", "free_port", "kill_group", "log_tail"]

LOG_TAIL_CHARS = 4000


class ServerStartError(RuntimeError):
    """A local server did not start; the message quotes the end of its log."""


def free_port(host: str) -> int:
    """Return a port that nothing listens on right now (it may be taken before we bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path | None, since: int = 0) -> str:
    """Return the end of a log file (from byte `since`), or "" when it cannot be read."""
    if path is None:
        return ""
    with contextlib.suppress(OSError), path.open("rb") as log:
        log.seek(since)
        return log.read().decode(errors="replace")[-LOG_TAIL_CHARS:]
    return ""


def kill_group(
    process: subprocess.Popen[bytes], grace: float = 10.0, sig: int = signal.SIGTERM,
) -> None:
    """Signal a process group (its leader started with start_new_session), then SIGKILL it."""
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
