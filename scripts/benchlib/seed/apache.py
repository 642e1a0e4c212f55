"""Debian's Apache (``/usr/sbin/apache2``, mpm_event) as a seed peer, from a private config.

Two sites: Debian's default page (what the seed measured: 10,918 bytes, access log on as the
stock site has it) and a 5-byte ``hello`` as text/plain with as few headers as Apache allows
(it always adds Date and Server). Both keep-alive off, sized for ``ab -c 1000``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..peers import BACKLOG, PeerSpec

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
MIME_TYPES = Path("/etc/mime.types")
DEFAULT_ROOT = Path("/var/www/html")
DEFAULT_PAGE = DEFAULT_ROOT / "index.html"
HELLO_BODY = b"hello"
#: Apache refuses to serve as root; Debian's package runs its workers as this user.
WORKER_USER = "www-data"

#: mpm_event: every process started up front and kept (no spawning mid-run), with enough
#: threads for one per connection at -c 1000: keep-alive off, each connection holds a thread.
_MPM = """\
StartServers 4
ServerLimit 4
ThreadLimit 256
ThreadsPerChild 256
MaxRequestWorkers 1024
MinSpareThreads 256
MaxSpareThreads 1024
MaxConnectionsPerChild 0"""


def apache_missing(*, default_page: bool) -> str | None:
    """Why Debian's Apache cannot run here (binary, modules or, when the site serves it, the
    default page absent), or None."""
    needed = [(APACHE, "apache2 not installed"), (MODULES, "apache2's modules not installed")]
    if default_page:
        needed.append((DEFAULT_PAGE, f"{DEFAULT_PAGE} (Debian's default page) missing"))
    return next((what for path, what in needed if not path.exists()), None)


def _site(docs: Path, hello: bool) -> str:
    """The document root and how it answers: the default page, or the 5-byte hello."""
    common = f"""DocumentRoot "{docs}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{docs}">
    AllowOverride None
    Require all granted
</Directory>"""
    if not hello:
        # Debian's stock site logs every request; the seed's figure paid for it too.
        log = '"%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\""'
        return f"""{common}
DirectoryIndex index.html
ServerTokens OS
LogFormat {log} combined
CustomLog "logs/access.log" combined"""
    return f"""{common}
DirectoryIndex hello
<Files "hello">
    ForceType text/plain
</Files>
ServerTokens Prod
FileETag None
Header unset Last-Modified
Header unset Accept-Ranges"""


def apache_conf(prefix: Path, host: str, port: int, *, hello: bool, user: str | None) -> str:
    """The whole httpd.conf: ServerRoot, pid file and logs under ``prefix``, one listener.

    ``user``: the user workers switch to (needed when started as root), or None to stay.
    """
    docs = prefix / "htdocs" if hello else DEFAULT_ROOT
    modules = ["mpm_event", "authz_core", "dir", "mime", *(["headers"] if hello else [])]
    lines = [
        f'ServerRoot "{prefix}"',
        f'DefaultRuntimeDir "{prefix}"',
        f'PidFile "{prefix}/apache2.pid"',
        'ErrorLog "logs/error.log"',
        "LogLevel warn",
        f"ServerName {host}",
        f"Listen {host}:{port}",
        f"ListenBacklog {BACKLOG}",
        *(f"{kind} {user}" for kind in ("User", "Group") if user is not None),
        *(f"LoadModule {name}_module {MODULES}/mod_{name}.so" for name in modules),
        _MPM,
        "KeepAlive Off",
        f'TypesConfig "{MIME_TYPES}"',
        _site(docs, hello),
    ]
    return "\n".join(lines) + "\n"


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
