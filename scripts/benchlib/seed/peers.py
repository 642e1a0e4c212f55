"""The seed page's servers, built here from our own sources in ``scripts/peers/<name>/``, and
the seed's ranking of them.

Each ``SeedPeer`` knows the seed's figure, what it needs installed, how to build it offline
into ``bench-out/seed-build/`` and how to start it on a port. Apache is Debian's own
(``seed.apache``); hyperlane and Rocket cannot be had here.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..machine import OUT_DIR, SCRIPTS, VENV_BIN
from ..peers import PeerSpec, console_script_problem, nginx, trioserve
from .apache import apache, apache_missing

PEER_SOURCES = SCRIPTS / "peers"
BUILD_DIR = OUT_DIR / "seed-build"
GOCODE = Path("/usr/share/gocode")
CARGO_REGISTRY = Path("/usr/share/cargo/registry")
BUILD_TIMEOUT_S = 900
#: hyperlane and Rocket: no Debian package, and crates.io cannot be reached from here.
NOT_PACKAGED = "not packaged here (not in Debian; crates.io unreachable)"


class BuildError(RuntimeError):
    """A build step failed; the message carries the tail of its output."""


@dataclass(frozen=True, slots=True)
class SeedPeer:
    """One row of the seed's table (or one we add), and how to get it running here."""

    name: str
    seed_rps: float | None
    #: Debian packages that provide what it needs (for --install).
    packages: tuple[str, ...] = ()
    #: why it cannot run at all, whatever is installed.
    never: str | None = None
    #: what differs from the seed's setup, shown in the table.
    note: str = ""
    #: what must be on the machine first: a check returning the reason it is missing, or None.
    missing: Callable[[], str | None] = lambda: None
    #: build (if needed) and return the peer's spec for a given host.
    prepare: Callable[[str], PeerSpec] | None = None


def _needs(*commands: str, path: Path | None = None, what: str = "") -> Callable[[], str | None]:
    """A ``missing`` check: these commands on PATH, and ``path`` (``what``) present."""

    def check() -> str | None:
        absent = [command for command in commands if shutil.which(command) is None]
        if absent:
            return f"{', '.join(absent)} not installed"
        return f"{what} not installed" if path is not None and not path.exists() else None

    return check


def _build(
    name: str, binary: Path, argv: list[str], cwd: Path, *,
    sources: Path | None = None, env: dict[str, str] | None = None,
) -> PeerSpec:  # fmt: skip
    """Run ``argv`` unless ``binary`` is newer than every file under ``sources`` (always without
    them); the binary then serves on the port it is given as its one argument."""
    built = binary.stat().st_mtime if binary.exists() else -1.0
    files = [path for path in sources.rglob("*") if path.is_file()] if sources else []
    if sources is None or any(path.stat().st_mtime > built for path in files):
        binary.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=BUILD_TIMEOUT_S, check=False)  # fmt: skip
        if done.returncode != 0:
            tail = " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:])
            raise BuildError(f"{' '.join(argv[:3])} failed: {tail}")
    return PeerSpec(name, lambda port: [str(binary), str(port)])


def build_rust_std(host: str) -> PeerSpec:
    source, binary = PEER_SOURCES / "rust_std", BUILD_DIR / "rust_std" / "server"
    argv = ["rustc", "-O", "--edition", "2021", "-o", str(binary), str(source / "main.rs")]
    return _build("Rust std", binary, argv, BUILD_DIR, sources=source)


def build_tokio(host: str) -> PeerSpec:
    crate = BUILD_DIR / "tokio"
    # A copy, so Cargo.lock and target/ land in bench-out, not in the sources.
    shutil.copytree(PEER_SOURCES / "tokio", crate, dirs_exist_ok=True)
    binary = crate / "target" / "release" / "seed-tokio"
    # Cargo knows what is fresh itself: always run it.
    return _build("Tokio", binary, ["cargo", "build", "--release", "--offline", "--quiet"], crate)


def _go_env(gopath: str) -> dict[str, str]:
    cache = str(BUILD_DIR / "go-cache")
    return {**os.environ, "GO111MODULE": "off", "GOFLAGS": "", "GOPATH": gopath, "GOCACHE": cache}


def build_go_std(host: str) -> PeerSpec:
    source, binary = PEER_SOURCES / "go_std", BUILD_DIR / "go_std" / "server"
    argv = ["go", "build", "-o", str(binary), str(source / "main.go")]
    env = _go_env(str(BUILD_DIR / "gopath"))
    return _build("Go std", binary, argv, BUILD_DIR, sources=source, env=env)


def build_gin(host: str) -> PeerSpec:
    source, binary = PEER_SOURCES / "gin", BUILD_DIR / "gin" / "server"
    # GOPATH mode against Debian's gocode: the program must sit in GOPATH/src/NAME/.
    gopath = BUILD_DIR / "gopath"
    package = gopath / "src" / "seedgin"
    shutil.copytree(source, package, dirs_exist_ok=True)
    argv = ["go", "build", "-o", str(binary), "."]
    return _build("Gin", binary, argv, package, sources=source, env=_go_env(f"{gopath}:{GOCODE}"))


def node_std(host: str) -> PeerSpec:
    exe, script = shutil.which("node") or "node", PEER_SOURCES / "node_std" / "server.js"
    return PeerSpec("Node std", lambda port: [exe, str(script), str(port)])


def seed_peers(run_dir: Path) -> list[SeedPeer]:
    """The seed's ranking, in its order, then the peers it did not have."""
    tokio = _needs("cargo", path=CARGO_REGISTRY / "tokio-1.24.2", what="librust-tokio-dev")
    gin = _needs("go", path=GOCODE / "src/github.com/gin-gonic/gin", what="gin (Debian)")
    auto = "trioserve --workers auto"
    trioserve_missing = functools.partial(console_script_problem, VENV_BIN / "trioserve")
    return [
        SeedPeer("hyperlane", 47294.55, never=NOT_PACKAGED),
        SeedPeer(
            "Tokio", 39984.12, ("cargo", "librust-tokio-dev"),
            note="backlog 4096 (tokio's bind: 1024)", missing=tokio, prepare=build_tokio,
        ),
        SeedPeer("Rocket", 31979.27, never=NOT_PACKAGED),
        SeedPeer(
            "Rust std", 31243.92, ("rustc",),
            note="single thread as the seed; backlog raised 128 -> 4096, 5 s read timeout",
            missing=_needs("rustc"), prepare=build_rust_std,
        ),
        SeedPeer(
            "Gin", 19514.88, ("golang-go", "golang-github-gin-gonic-gin-dev"),
            note="Go's default backlog (somaxconn)", missing=gin, prepare=build_gin,
        ),
        SeedPeer(
            "Go std", 19316.27, ("golang-go",), note="Go's default backlog (somaxconn)",
            missing=_needs("go"), prepare=build_go_std,
        ),
        SeedPeer(
            "Apache", 18017.33, ("apache2",),
            note="Debian's default page (the seed's: 10,918 B), stock access log;"
            " mpm_event 4 x 256 threads, backlog 4096",
            missing=functools.partial(apache_missing, default_page=True),
            prepare=lambda host: apache("Apache", host, run_dir / "apache", hello=False),
        ),
        SeedPeer(
            "Node std", 16605.69, ("nodejs",), note="backlog 4096 (Node's default: 511)",
            missing=_needs("node"), prepare=node_std,
        ),
        SeedPeer(
            "Apache (88-byte reply)", None, ("apache2",),
            note="5-byte hello as text/plain, no access log; Apache always adds Date and Server",
            missing=functools.partial(apache_missing, default_page=False),
            prepare=lambda host: apache(
                "Apache (88-byte reply)", host, run_dir / "apache-hello", hello=True
            ),
        ),
        SeedPeer(
            "nginx", None, ("nginx",), note="worker_processes auto, return 200, backlog 4096",
            missing=_needs("nginx"), prepare=lambda host: nginx("nginx", host, "auto", run_dir),
        ),
        SeedPeer(
            "trioserve", None, missing=trioserve_missing,
            prepare=lambda host: trioserve("trioserve", host),
        ),
        SeedPeer(
            auto, None, missing=trioserve_missing,
            prepare=lambda host: trioserve(auto, host, "--workers", "auto"),
        ),
    ]  # fmt: skip


def seed_ranks(peers: Sequence[SeedPeer]) -> dict[str, int]:
    """Each seed peer's place in the seed's ranking (req/s, highest first)."""
    figures = sorted((-peer.seed_rps, peer.name) for peer in peers if peer.seed_rps)
    return {name: rank for rank, (_, name) in enumerate(figures, start=1)}
