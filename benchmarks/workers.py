"""The parent side of the worker processes: start one per variant, talk JSON lines to it."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from benchmarks.harness import Sample, Unsupported
from benchmarks.peers import Peers

ROOT = Path(__file__).resolve().parent.parent
MAIN_VENV_VARIANTS = ("pydirectus", "pydirectus_seed", "raw")


class WorkerError(RuntimeError):
    """The worker crashed, timed out or answered with an error."""


class Worker:
    """A process hosting one or more variants; only one block runs at a time, anywhere."""

    def __init__(self, name: str, argv: list[str], log_dir: Path) -> None:
        self.name = name
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
        env["PYTHONHASHSEED"] = "0"  # one less source of process-to-process differences
        env["XDG_DOWNLOAD_DIR"] = str(log_dir.parent / "downloads")  # py-directus saves there
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, text=True, bufsize=1)
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()
        self._read(120.0)  # {"ready": [names]}

    def _pump(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self._lines.put(line)
        self._lines.put(None)

    def _read(self, timeout: float) -> dict[str, Any]:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerError(f"{self.name}: no answer within {timeout:.0f} s") from None
        if line is None:
            raise WorkerError(f"{self.name}: exited ({self.process.poll()}); see {self.log_path}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            raise WorkerError(f"{self.name}: {reply['error']}")
        return reply

    def call(self, message: Mapping[str, Any], timeout: float = 300.0) -> dict[str, Any]:
        """Send one request and wait for its answer."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise WorkerError(f"{self.name}: exited ({self.process.poll()}); "
                              f"see {self.log_path}") from exc
        return self._read(timeout)

    def setup(self, url: str, token: str, page_size: int) -> None:
        """Make the variant's client."""
        self.call({"op": "setup", "url": url, "token": token, "page_size": page_size})

    def run(self, variant: str, workload: str, calls: int, args: Mapping[str, Any], rep: int,
            timeout: float = 300.0) -> tuple[Sample, Any]:
        """Time one block of a variant; return the sample and the check value to verify."""
        reply = self.call({"op": "run", "variant": variant, "workload": workload,
                           "calls": calls, "args": args}, timeout)
        if "unsupported" in reply:
            raise Unsupported(reply["unsupported"])
        sample = Sample(rep=rep, calls=calls, wall=float(reply["wall"]), cpu=float(reply["cpu"]),
                        rss_before_kb=int(reply["rss_before_kb"]),
                        rss_peak_kb=int(reply["rss_peak_kb"]))
        return sample, reply["check"]

    def close(self) -> None:
        """Ask the worker to quit; kill it if it does not."""
        if self.process.poll() is None:
            with contextlib.suppress(WorkerError):
                self.call({"op": "quit"}, timeout=30.0)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def kill(self) -> None:
        """Kill this worker's process (and only it)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def argv_for(variants: Sequence[str], peers: Peers) -> list[str]:
    """Return the command that starts a worker for variants of one kind, or raise Unsupported.

    Main-virtualenv variants (pydirectus, raw) may share a worker; a peer runs alone.
    """
    if all(name in MAIN_VENV_VARIANTS for name in variants):
        return [sys.executable, "-m", "benchmarks.worker", ",".join(variants)]
    (variant,) = variants
    problem = peers.problem(variant)
    if problem is not None:
        raise Unsupported(problem)
    if variant == "node":
        return [str(peers.node), str(peers.node_worker)]
    return [str(peers.python), "-m", "benchmarks.worker", variant]


def start(variants: Sequence[str], peers: Peers, log_dir: Path, url: str, token: str,
          page_size: int) -> Worker:
    """Start a worker for some variants and set up their clients."""
    worker = Worker("+".join(variants), argv_for(variants, peers), log_dir)
    try:
        worker.setup(url, token, page_size)
    except BaseException:
        worker.kill()
        raise
    return worker
