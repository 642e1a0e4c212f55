"""How to start each peer the bench compares, whether it is installed here, and the
certificates its https peers serve.

Each peer is a ``PeerSpec``: a name, the command line for a given port, and a reason when it
cannot run on this machine (shown as "not available: ..." instead of a result).
"""

from __future__ import annotations

import functools
import re
import shutil
import string
import subprocess
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .machine import OUT_DIR, REPO, SCRIPTS, VENV_BIN, venv_python

PEERS_VENV = OUT_DIR / "peers-venv"
PEER_PACKAGES = ("uvicorn", "uvloop", "httptools")
BACKLOG = 4096


@dataclass(frozen=True, slots=True)
class PeerSpec:
    """A server the bench can start: ``argv(port)`` run from ``cwd``, or why it can't run."""

    name: str
    argv: Callable[[int], list[str]] = lambda _port: []
    missing: str | None = None
    cwd: Path = REPO


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files an https peer serves: the CA to trust, its chain (leaf first), its private key."""

    ca: Path
    chain: Path
    key: Path


def make_certificates(directory: Path, host: str) -> TlsFiles | str:
    """A throw-away CA and a leaf it signed for ``host`` (an IP SAN) and localhost, made at bench
    time by ``trustme`` (a dev dependency); or why they can't be made. The keys are ECDSA
    P-256, the cheapest common handshake, so the tls part measures the clients rather than
    RSA's private-key operation on the server; trioload verifies the leaf with ``--cacert``."""
    try:
        import trustme  # noqa: PLC0415  (a dev dependency: only the tls part needs it)
    except ImportError:
        return "trustme is not installed (it is a dev dependency: pip install trustme)"
    directory.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(directory / "ca.pem", directory / "server-chain.pem", directory / "server.key")
    ca = trustme.CA(key_type=trustme.KeyType.ECDSA)
    leaf = ca.issue_cert(host, "localhost", key_type=trustme.KeyType.ECDSA)
    ca.cert_pem.write_to_path(str(files.ca))
    files.chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    leaf.private_key_pem.write_to_path(str(files.key))
    files.key.chmod(0o600)
    return files


def slug(name: str) -> str:
    """``name`` made safe for a file or folder name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")


@functools.cache
def console_script_problem(exe: Path) -> str | None:
    """Why ``exe`` can't be used yet (absent, or ``--help`` fails), else None."""
    if not exe.exists():
        shown = exe.relative_to(REPO) if exe.is_relative_to(REPO) else exe
        return f"{shown} is not installed"
    try:
        done = subprocess.run(
            [str(exe), "--help"], capture_output=True, text=True, timeout=30, check=False
        )
    except subprocess.TimeoutExpired:
        return f"{exe.name} --help did not finish in 30 s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"{exe.name} --help failed: {last[:140]}"
    return None


def nginx(
    name: str,
    host: str,
    workers: str,
    run_dir: Path,
    *,
    keep_alive: bool = False,
    tls: TlsFiles | None = None,
) -> PeerSpec:
    """nginx from its own prefix under ``run_dir``, its config ``scripts/peers/nginx/nginx.conf``
    ("hello" to everything, no access log); ``workers`` is "1" or "auto"; keep-alive off unless
    asked (then connections may carry any number of requests); with ``tls``, HTTPS only."""
    exe = shutil.which("nginx")
    if exe is None:
        return PeerSpec(name, missing="nginx is not installed (apt-get install nginx)")
    prefix, template = run_dir / slug(name), SCRIPTS / "peers" / "nginx" / "nginx.conf"
    keep = "keepalive_timeout 75s;\n    keepalive_requests 100000000;" if keep_alive else ""
    # No session tickets: no client resumes a session with keep-alive off (trioload resumes only
    # with -k), so every connection is one full handshake and nginx does no ticket work.
    ssl = ["ssl_protocols TLSv1.2 TLSv1.3;", "ssl_session_tickets off;"]
    ssl = [f"ssl_certificate {tls.chain};", f"ssl_certificate_key {tls.key};", *ssl] if tls else []

    def argv(port: int) -> list[str]:
        for sub in ("logs", "tmp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        (prefix / "nginx.conf").write_text(string.Template(template.read_text()).substitute(
            workers=workers, prefix=prefix, host=host, port=port, backlog=BACKLOG,
            keep_alive=keep or "keepalive_timeout 0;", ssl=" ssl" if tls else "",
            ssl_lines="".join(f"\n        {line}" for line in ssl),
        ))  # fmt: skip
        return [exe, "-p", f"{prefix}/", "-e", f"{prefix}/logs/error.log",
                "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"]  # fmt: skip

    return PeerSpec(name, argv)


def uvicorn(name: str, host: str, install: bool) -> PeerSpec:
    """uvicorn with uvloop and httptools, in its own venv so the project's stays clean; with
    ``install``, that venv is made first if it has no uvicorn."""
    exe = PEERS_VENV / "bin" / "uvicorn"
    if not exe.exists() and install:
        print(f"installing {', '.join(PEER_PACKAGES)} into {PEERS_VENV.relative_to(REPO)} ...")
        venv.EnvBuilder(with_pip=True, clear=True).create(PEERS_VENV)
        subprocess.run(
            [str(PEERS_VENV / "bin" / "pip"), "install", "-q", *PEER_PACKAGES], check=True
        )
    if not exe.exists():
        why = f"{PEERS_VENV.relative_to(REPO)} has no uvicorn (run with --install-peers)"
        return PeerSpec(name, missing=why)
    app_dir = str(SCRIPTS / "peers" / "uvicorn")

    def argv(port: int) -> list[str]:
        return [str(exe), "--app-dir", app_dir, "hello_asgi:app", "--host", host,
                "--port", str(port), "--loop", "uvloop", "--http", "httptools",
                "--backlog", str(BACKLOG), "--no-access-log", "--log-level", "warning",
                "--no-server-header", "--no-date-header"]  # fmt: skip

    return PeerSpec(name, argv)


def trioserve(
    name: str, host: str, *flags: str, exe: Path | str = VENV_BIN / "trioserve"
) -> PeerSpec:
    """The project's server through its console script (``exe``: another build, or why there is
    none), ``flags`` on its command line as they are (``--workers auto``, ``--keep-alive``)."""
    problem = exe if isinstance(exe, str) else console_script_problem(exe)
    if problem is not None:
        return PeerSpec(name, missing=problem)
    return PeerSpec(name, lambda port: [str(exe), "--host", host, "--port", str(port), *flags])


def checkout(package: str, ref: str) -> Path | str:
    """``package`` (trioserve or trioload) as git revision ``ref`` has it, under bench-out/, or
    why not: ``git archive`` copies just that package (no worktree to clean up); put the
    returned directory first on ``PYTHONPATH`` to import it instead of the working tree's."""
    try:
        sha = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", f"{ref}^{{commit}}"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return f"{ref!r} is not a git revision here"
    folder = OUT_DIR / f"{package}-{sha}"
    if not (folder / package).is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", sha, package], capture_output=True, check=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    return folder


def launcher_at(package: str, ref: str) -> Path | str:
    """An executable that runs ``package`` as revision ``ref`` has it (a console script's
    stand-in, to compare a change against in one run); or why not."""
    folder = checkout(package, ref)
    if isinstance(folder, str):
        return folder
    launcher = folder / f"{package}-launcher"
    # -P: without it, "-m" puts the working directory (the repository, with today's
    # package) ahead of PYTHONPATH, and the "before" one would be the current one. A -W
    # parent's workers inherit PYTHONPATH, so they are the revision's too.
    launcher.write_text(
        f'#!/bin/sh\nPYTHONPATH="{folder}" exec "{venv_python()}" -P -m {package} "$@"\n'
    )
    launcher.chmod(0o755)
    return launcher


def baseline_argv(program: str, *args: str) -> list[str]:
    """Command line of one of the baselines (``scripts/benchlib/baselines.py``)."""
    return [venv_python(), "-m", "scripts.benchlib.baselines", program, *args]


def trio_baseline_server(name: str, host: str) -> PeerSpec:
    """The plain ``trio.serve_tcp`` server the issue measured."""
    return PeerSpec(name, lambda port: baseline_argv("server", "--host", host, "--port", str(port)))
