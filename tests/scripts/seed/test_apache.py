"""Debian's Apache as a seed peer (``benchlib.seed.apache``): its config, its site, and what it
needs installed. Nothing here starts Apache."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.benchlib.seed import apache
from scripts.benchlib.seed.apache import apache_conf, apache_missing, write_apache_site

PREFIX = Path("/srv/run/apache")


# --- Apache's config -------------------------------------------------------------------------


def test_apache_conf_default_site_serves_debians_page_keep_alive_off() -> None:
    conf = apache_conf(PREFIX, "127.0.0.1", 8080, hello=False, user=None)
    assert 'DocumentRoot "/var/www/html"' in conf
    assert "DirectoryIndex index.html" in conf
    assert "Listen 127.0.0.1:8080\n" in conf
    assert "KeepAlive Off\n" in conf
    assert "ListenBacklog 4096\n" in conf
    assert f'ServerRoot "{PREFIX}"' in conf
    assert f'PidFile "{PREFIX}/apache2.pid"' in conf
    assert "CustomLog" in conf  # Debian's stock site logs each request
    assert "mod_headers" not in conf


def test_apache_conf_loads_mpm_event_with_a_thread_per_connection_at_c1000() -> None:
    conf = apache_conf(PREFIX, "127.0.0.1", 8080, hello=False, user=None)
    settings = dict(line.split(" ", 1) for line in conf.splitlines() if line and " " in line)
    assert "/mod_mpm_event.so" in conf
    assert int(settings["MaxRequestWorkers"]) >= 1000
    assert int(settings["ServerLimit"]) * int(settings["ThreadsPerChild"]) >= int(
        settings["MaxRequestWorkers"]
    )
    assert int(settings["ThreadsPerChild"]) <= int(settings["ThreadLimit"])
    assert settings["StartServers"] == settings["ServerLimit"]  # no spawning mid-run


def test_apache_conf_hello_site_answers_text_plain_without_validators() -> None:
    conf = apache_conf(PREFIX, "127.0.0.1", 8080, hello=True, user=None)
    assert f'DocumentRoot "{PREFIX}/htdocs"' in conf
    assert "DirectoryIndex hello" in conf
    assert "ForceType text/plain" in conf
    assert "FileETag None" in conf
    assert "Header unset Last-Modified" in conf
    assert "/mod_headers.so" in conf
    assert "CustomLog" not in conf


def test_apache_conf_switches_user_only_when_asked() -> None:
    as_root = apache_conf(PREFIX, "127.0.0.1", 1, hello=False, user="www-data")
    assert "User www-data\nGroup www-data\n" in as_root
    assert "User " not in apache_conf(PREFIX, "127.0.0.1", 1, hello=False, user=None)


def test_write_apache_site_writes_the_conf_and_the_five_byte_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)  # not root: no chmod, no User
    conf = write_apache_site(tmp_path / "apache", "127.0.0.1", 9, hello=True)
    assert conf.read_text() == apache_conf(
        tmp_path / "apache", "127.0.0.1", 9, hello=True, user=None
    )
    assert (tmp_path / "apache" / "htdocs" / "hello").read_bytes() == b"hello"
    assert (tmp_path / "apache" / "logs").is_dir()


def test_apache_missing_names_the_absent_binary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(apache, "APACHE", tmp_path / "apache2")
    assert apache_missing(default_page=False) == "apache2 not installed"


def test_apache_missing_needs_the_default_page_only_for_the_default_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("apache2", "modules"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(apache, "APACHE", tmp_path / "apache2")
    monkeypatch.setattr(apache, "MODULES", tmp_path / "modules")
    monkeypatch.setattr(apache, "DEFAULT_PAGE", tmp_path / "index.html")
    assert apache_missing(default_page=False) is None
    assert "default page" in (apache_missing(default_page=True) or "")
