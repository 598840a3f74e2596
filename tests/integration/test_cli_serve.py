"""`mixdown serve` as a user runs it: a real uvicorn in a subprocess."""

from __future__ import annotations

import os
import ssl
import subprocess
import urllib.request
from pathlib import Path

from web_songs import MIXDOWN, make_song, running_server


def test_serve_prints_its_address_and_answers(tmp_path: Path) -> None:
    make_song(tmp_path, "tune", title="A Tune", bars=3)
    with running_server(tmp_path, env={"MIXDOWN_SECRET": ""}) as url:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/")
        with urllib.request.urlopen(url, timeout=30) as r:
            page = r.read().decode()
        assert r.status == 200 and "A Tune" in page
        with urllib.request.urlopen(url + "static/vendor/htmx.min.js", timeout=30) as r:
            assert b"htmx" in r.read(2000)
    assert (tmp_path / "mixdown.db").is_file()


def test_non_loopback_bind_without_a_secret_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MIXDOWN_SECRET"}
    r = subprocess.run([MIXDOWN, "serve", str(tmp_path), "--host", "0.0.0.0"],
                       capture_output=True, text=True, env=env, timeout=60, check=False)
    assert r.returncode == 1
    assert r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith("mixdown: error: --host 0.0.0.0 ") and "MIXDOWN_SECRET" in r.stderr
    assert not (tmp_path / "mixdown.db").exists()


def test_serve_refuses_a_missing_folder_and_half_tls(tmp_path: Path) -> None:
    r = subprocess.run([MIXDOWN, "serve", str(tmp_path / "nope")], capture_output=True,
                       text=True, timeout=60, check=False)
    assert r.returncode == 1 and "not a folder" in r.stderr
    r = subprocess.run([MIXDOWN, "serve", str(tmp_path), "--certfile", str(tmp_path)],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode == 1 and "--keyfile" in r.stderr


def test_serve_speaks_https_with_a_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   capture_output=True, check=True, timeout=60)
    make_song(tmp_path / "songs", "tune", title="Secure Tune", bars=3)
    with running_server(tmp_path / "songs", "--certfile", str(cert), "--keyfile", str(key),
                        env={"MIXDOWN_SECRET": ""}) as url:
        assert url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context(cafile=str(cert))
        context.check_hostname = False
        with urllib.request.urlopen(url, timeout=30, context=context) as r:
            assert r.status == 200 and "Secure Tune" in r.read().decode()
            assert "Secure" in r.headers.get("set-cookie", "")
