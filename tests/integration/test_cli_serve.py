"""`mixdown serve` as a user runs it: a real uvicorn in a subprocess."""

from __future__ import annotations

import os
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
