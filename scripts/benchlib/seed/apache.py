"""Debian's Apache (``/usr/sbin/apache2``, mpm_event) as a seed peer, from a private config.

Two sites: Debian's default page (what the seed measured: 10,918 bytes, access log on as the
stock site has it) and a 5-byte ``hello`` as text/plain with as few headers as Apache allows
(it always adds Date and Server). Both keep-alive off, sized for ``ab -c 1000``.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

from ..machine import SCRIPTS
from ..peers import BACKLOG, PeerSpec

CONFIGS = SCRIPTS / "peers" / "apache"

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
MIME_TYPES = Path("/etc/mime.types")
DEFAULT_ROOT = Path("/var/www/html")
DEFAULT_PAGE = DEFAULT_ROOT / "index.html"
HELLO_BODY = b"hello"
#: Apache refuses to serve as root; Debian's package runs its workers as this user.
WORKER_USER = "www-data"


def apache_missing(*, default_page: bool) -> str | None:
    """Why Debian's Apache cannot run here (binary, modules or, when the site serves it, the
    default page absent), or None."""
    needed = [(APACHE, "apache2 not installed"), (MODULES, "apache2's modules not installed")]
    if default_page:
        needed.append((DEFAULT_PAGE, f"{DEFAULT_PAGE} (Debian's default page) missing"))
    return next((what for path, what in needed if not path.exists()), None)


def apache_conf(prefix: Path, host: str, port: int, *, hello: bool, user: str | None) -> str:
    """The whole httpd.conf, from ``scripts/peers/apache/``: ServerRoot, pid file and logs under
    ``prefix``, one listener, and the default page's site or the hello's; ``user``: the user
    workers switch to (needed when started as root), or None to stay."""
    modules = ["mpm_event", "authz_core", "dir", "mime", *(["headers"] if hello else [])]
    site = (CONFIGS / ("hello-site.conf" if hello else "default-site.conf")).read_text()
    return string.Template((CONFIGS / "apache2.conf").read_text() + site).substitute(
        prefix=prefix, host=host, port=port, backlog=BACKLOG, mime_types=MIME_TYPES,
        docs=prefix / "htdocs" if hello else DEFAULT_ROOT,
        user="".join(f"{kind} {user}\n" for kind in ("User", "Group") if user is not None),
        modules="\n".join(f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in modules),
    )  # fmt: skip


def write_apache_site(prefix: Path, host: str, port: int, *, hello: bool) -> Path:
    """Write the config (and the hello document) under ``prefix``; return the config's path."""
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    user = WORKER_USER if os.geteuid() == 0 else None
    if hello:
        docs = prefix / "htdocs"
        docs.mkdir(exist_ok=True)
        (docs / "hello").write_bytes(HELLO_BODY)
        if user is not None:
            # The workers run as www-data and must reach the document; the run dir is 0700.
            for path in (docs, prefix, prefix.parent):
                path.chmod(path.stat().st_mode | 0o005)
    conf = prefix / "apache2.conf"
    conf.write_text(apache_conf(prefix, host, port, hello=hello, user=user))
    return conf


def apache(name: str, host: str, prefix: Path, *, hello: bool) -> PeerSpec:
    """Apache in the foreground from its own ServerRoot ``prefix``."""

    def argv(port: int) -> list[str]:
        conf = write_apache_site(prefix, host, port, hello=hello)
        return [str(APACHE), "-d", str(prefix), "-f", str(conf), "-DFOREGROUND"]

    return PeerSpec(name, argv)
