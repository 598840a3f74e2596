"""``mixdown ledger`` as a user runs it: the issue's commands exactly as written, and bad
input as one line with exit 1 and nothing written (exit 2 only for unknown options)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from mixdown.db import open_database
from mixdown.ledger.backup import ledger_tables

MIXDOWN = str(Path(sys.executable).with_name("mixdown"))

ISSUE_COMMANDS = r"""
mixdown ledger person add "Ana Ruiz" --role engineer
mixdown ledger person add "Ben Ode" --role writer
mixdown ledger room add "Studio A" --rate 60 --currency EUR          # per hour
mixdown ledger song add "Night Drive" --project PATH               # links a mixdown project
mixdown ledger session book --room "Studio A" --start 2026-12-01T10:00 --end 2026-12-01T14:00 \
    --person "Ana Ruiz" --song "Night Drive"
mixdown ledger session list --json
mixdown ledger split set "Night Drive" --writer "Ana Ruiz=60" --writer "Ben Ode=40"
mixdown ledger release add "Night Drive EP" --artist "Ana Ruiz" --upc 012345678905 \
    --date 2027-01-15 --track "Night Drive=USRC17607839"
mixdown ledger release check "Night Drive EP" --json   # exit 0 ready, 1 not; {"ready", "items"}
mixdown ledger backup FILE
mixdown ledger restore FILE         # into an empty database; a non-empty one needs --force
"""


def commands(text: str) -> list[list[str]]:
    """The shell lines of the issue, continuations joined and comments dropped."""
    joined = text.replace("\\\n", " ")
    return [shlex.split(line, comments=True) for line in joined.strip().splitlines()]


def run(args: list[str | bytes], env: dict[str, str], cwd: Path
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MIXDOWN, *args[1:]] if args and args[0] == "mixdown"
                          else [MIXDOWN, *args], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, **env, "COLUMNS": "200"}, timeout=120)


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``mixdown ARGS`` in this process (main's own error handling); exit, out, err."""
    from mixdown.cli.main import main

    capsys.readouterr()
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    else:  # pragma: no cover - main always exits
        code = 0
    out, err = capsys.readouterr()
    return code, out, err


def _env(backend: str, db_url: str) -> dict[str, str]:
    # SQLite: the default ./mixdown.db of the current folder; PostgreSQL: the variable.
    return {"MIXDOWN_DATABASE_URL": db_url} if backend == "postgresql" else \
        {"MIXDOWN_DATABASE_URL": ""}


def _dump(url: str) -> dict[str, list[tuple]]:
    db = open_database(url)
    try:
        with db.transaction() as s:
            return {t.name: [tuple(r) for r in s.execute(select(t).order_by(
                *t.primary_key.columns))] for t in ledger_tables()}
    finally:
        db.close()


def test_the_issue_commands_work_as_written(backend: str, db_url: str, tmp_path: Path,
                                            request: pytest.FixtureRequest) -> None:
    from ledger_support import new_url

    work = tmp_path / "work"
    work.mkdir()
    url = db_url if backend == "postgresql" else f"sqlite:///{work / 'mixdown.db'}"
    env = _env(backend, url)
    assert run(["new", str(tmp_path / "night-drive")], env, work).returncode == 0
    backup = tmp_path / "ledger-backup.json"
    outputs = []
    for args in commands(ISSUE_COMMANDS):
        args = [str(tmp_path / "night-drive") if a == "PATH" else str(backup) if a == "FILE"
                else a for a in args]
        if args[2] == "restore":
            # restore into a new, empty database
            url = new_url(backend, tmp_path, request) if backend == "postgresql" else \
                f"sqlite:///{tmp_path / 'fresh' / 'mixdown.db'}"
            before = _dump(_url_of(backend, env, work))
            if backend == "sqlite":
                (tmp_path / "fresh").mkdir()
                work = tmp_path / "fresh"
            env = _env(backend, url)
        proc = run(args, env, work)
        outputs.append(proc)
        expected = 1 if args[2:4] == ["release", "check"] else 0
        assert proc.returncode == expected, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    sessions = json.loads(outputs[5].stdout)
    assert [(s["room"], s["people"], s["songs"]) for s in sessions] == [
        ("Studio A", ["Ana Ruiz"], ["Night Drive"])]
    check = json.loads(outputs[8].stdout)
    assert check["ready"] is False and {"ready", "items"} <= set(check)
    assert {i["name"]: i["ok"] for i in check["items"]}["splits: Night Drive"] is True
    assert _dump(url) == before  # restore round-tripped every row
    again = run(["ledger", "restore", str(backup)], env, work)
    assert again.returncode == 1 and "--force" in again.stderr
    assert run(["ledger", "restore", str(backup), "--force"], env, work).returncode == 0


def _url_of(backend: str, env: dict[str, str], work: Path) -> str:
    return env["MIXDOWN_DATABASE_URL"] if backend == "postgresql" else \
        f"sqlite:///{work / 'mixdown.db'}"


SETUP = [
    ["ledger", "person", "add", "Ana Ruiz", "--role", "engineer"],
    ["ledger", "person", "add", "Ben Ode", "--role", "writer"],
    ["ledger", "room", "add", "Studio A", "--rate", "60", "--currency", "EUR"],
    ["ledger", "song", "add", "Night Drive"],
    ["ledger", "session", "book", "--room", "Studio A", "--start", "2026-12-01T10:00",
     "--end", "2026-12-01T14:00", "--person", "Ana Ruiz"],
]

BAD = [
    (["session", "book", "--room", "Studio A", "--start", "2026-12-01 10h",
      "--end", "2026-12-01T14:00"], "not an ISO 8601"),
    (["session", "book", "--room", "Studio A", "--start", "2026-12-02T14:00",
      "--end", "2026-12-02T10:00"], "not after start"),
    (["session", "book", "--room", "Studio A", "--start", "2026-12-01T12:00",
      "--end", "2026-12-01T16:00"], "room 'Studio A' is already booked"),
    (["session", "book", "--room", "Studio A", "--start", "2026-12-02T10:00",
      "--end", "2026-12-02T14:00", "--person", "Ana Ruiz", "--person", "Nobody"],
     "unknown person 'Nobody'"),
    (["session", "book", "--room", "Studio Z", "--start", "2026-12-02T10:00",
      "--end", "2026-12-02T14:00"], "unknown room"),
    (["session", "show", "abc"], "whole number"),
    (["room", "add", "B", "--rate", "-5", "--currency", "EUR"], "negative"),
    (["room", "add", "B", "--rate", "ten", "--currency", "EUR"], "not a number"),
    (["room", "add", "B", "--rate", "10", "--currency", "XYZ"], "currency 'XYZ' is unknown"),
    (["split", "set", "Night Drive", "--writer", "Ana Ruiz=60", "--writer", "Ben Ode=39.99"],
     "not exactly 100%"),
    (["release", "add", "EP", "--artist", "A", "--upc", "012345678906"], "check digit"),
    (["release", "add", "EP", "--artist", "A", "--track", "Night Drive=USRC1760783"], "ISRC"),
    (["release", "add", "EP", "--artist", "A", "--date", "15/01/2027"], "YYYY-MM-DD"),
    (["person", "add", "x" * 5000], "at most 200"),
    (["person", "add", "Ana Ruiz"], "already exists"),
    (["expense", "add", "Nope", "--category", "x", "--amount", "1", "--currency", "EUR",
      "--date", "2026-12-01"], "unknown budget"),
    (["contract", "list", "--expiring", "soon"], "whole number"),
]


@pytest.fixture
def seeded(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> tuple[dict[str, str], Path, str]:
    """The database of MIXDOWN_DATABASE_URL, seeded by the commands of SETUP (in-process)."""
    from mixdown.cli.main import main

    monkeypatch.setenv("MIXDOWN_DATABASE_URL", db_url)
    monkeypatch.chdir(tmp_path)
    for args in SETUP:
        with pytest.raises(SystemExit) as done:
            main(args)
        assert done.value.code == 0, args
    return {"MIXDOWN_DATABASE_URL": db_url}, tmp_path, db_url


def test_bad_input_is_one_line_and_writes_nothing(seeded: tuple[dict[str, str], Path, str],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _, _, url = seeded
    before = _dump(url)
    for args, message in BAD:
        code, out, err = cli(["ledger", *args], capsys)
        lines = err.strip().splitlines()
        assert code == 1, (args, err)
        assert len(lines) == 1 and lines[0].startswith("mixdown: error: "), (args, lines)
        assert message in lines[0], (args, lines[0])
        assert out == ""
    assert _dump(url) == before


def test_sql_looking_text_is_stored_as_text(seeded: tuple[dict[str, str], Path, str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    _, _, url = seeded
    name = "Robert'); DROP TABLE ledger_people;--"
    assert cli(["ledger", "person", "add", name], capsys)[0] == 0
    out = cli(["ledger", "person", "list", "--json"], capsys)[1]
    assert name in [p["name"] for p in json.loads(out)]
    assert len(_dump(url)["ledger_people"]) == 3


def test_non_utf8_arguments_and_files(seeded: tuple[dict[str, str], Path, str]) -> None:
    env, cwd, url = seeded
    before = _dump(url)
    proc = subprocess.run([MIXDOWN.encode(), b"ledger", b"person", b"add", b"Ana \xff\xfe"],
                          capture_output=True, cwd=cwd, env={**os.environ, **env})
    assert proc.returncode == 1 and b"not valid UTF-8" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    bad = cwd / "bad.json"
    bad.write_bytes(b'{"format": "mixdown-ledger-backup", "name": "\xff"}')
    proc = run(["ledger", "restore", str(bad), "--force"], env, cwd)
    assert proc.returncode == 1 and "not a ledger backup" in proc.stderr
    assert _dump(url) == before
    proc = run(["ledger", "person", "list", "--colour"], env, cwd)
    assert proc.returncode == 2 and "No such option" in proc.stderr  # usage errors stay 2


def test_json_on_every_list_and_show(seeded: tuple[dict[str, str], Path, str],
                                     capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["person", "list"], ["person", "show", "Ana Ruiz"], ["room", "list"],
                 ["room", "show", "Studio A"], ["song", "list"], ["song", "show", "Night Drive"],
                 ["session", "list"], ["session", "show", "1"], ["studio", "list"],
                 ["budget", "list"], ["invoice", "list"], ["contract", "list"],
                 ["release", "list"], ["split", "show", "Night Drive"],
                 ["credit", "list", "Night Drive"]):
        code, out, err = cli(["ledger", *args, "--json"], capsys)
        assert code == 0, (args, err)
        json.loads(out)
    import typer.main

    from mixdown.cli.main import app

    group = typer.main.get_command(app).commands["ledger"]  # type: ignore[attr-defined]
    for name, sub in group.commands.items():  # type: ignore[attr-defined]
        for verb, cmd in getattr(sub, "commands", {}).items():
            if verb in ("list", "show"):
                assert any("--json" in p.opts for p in cmd.params), (name, verb)


def test_every_ledger_command_and_option_is_documented() -> None:
    import typer.main

    from mixdown.cli.main import app

    text = (Path(__file__).resolve().parents[3] / "docs" / "cli.md").read_text()
    group = typer.main.get_command(app).commands["ledger"]  # type: ignore[attr-defined]

    def walk(cmd: object, name: str) -> None:
        assert f"### `{name}`" in text, name
        for p in getattr(cmd, "params", []):
            for opt in p.opts:
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}`" in text, (name, opt)
        for sub, c in getattr(cmd, "commands", {}).items():
            walk(c, f"{name} {sub}")

    walk(group, "mixdown ledger")


def test_the_python_example_of_the_docs_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                              ) -> None:
    import re

    text = (Path(__file__).resolve().parents[3] / "docs" / "ledger.md").read_text()
    (code,) = re.findall(r"```python\n(.*?)```", text, re.S)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MIXDOWN_DATABASE_URL", raising=False)
    scope: dict[str, object] = {}
    exec(compile(code, "docs/ledger.md", "exec"), scope)
    assert scope["s"].cost_minor == 24000  # type: ignore[attr-defined]
    assert (tmp_path / "mixdown.db").is_file()
