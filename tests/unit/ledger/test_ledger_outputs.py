"""What the ledger writes: ICS, invoice and split sheet (HTML, PDF), budget CSV and chart,
release JSON/CSV/DDEX; and backup/restore of every row."""

from __future__ import annotations

import csv
import io
import json
import re
import zlib
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select

from mixdown.db import Database, open_database
from mixdown.ledger.backup import ledger_tables
from mixdown.ledger.documents import ERN_NS
from mixdown.ledger.errors import ConflictError, LedgerError
from mixdown.services import ledger as L


@pytest.fixture
def full(db: Database) -> Database:
    """A ledger with a row in every table."""
    L.add_studio(db, "Casa", address="Calle 1, Madrid")
    L.add_person(db, "Ana Ruíz", roles=["engineer"], email="ana@example.com", pro="SGAE",
                 ipi="00052210040")
    L.add_person(db, "Ben Ode", roles=["writer"])
    L.add_room(db, "Studio A", rate="60", currency="EUR", studio="Casa")
    L.add_budget(db, "EP", currency="EUR")
    L.add_song(db, "Night Drive", budget="EP")
    s = L.book_session(db, room="Studio A", start="2026-12-01T10:00Z", end="2026-12-01T14:00Z",
                       people=["Ana Ruíz"], songs=["Night Drive"],
                       notes="Vocals; takes 1-12, comp later\nbring the U87")
    L.add_budget_line(db, "EP", category="studio", amount="200")
    L.add_expense(db, "EP", category="mixing", amount="120.50", currency="EUR",
                  spent_on="2026-12-03", description="Mix, 1 song")
    L.add_invoice(db, "INV-1", party="Label Ltd", currency="EUR", issued="2026-12-05",
                  sessions=[str(s.id)], lines=["Mixing=500"])
    L.derive_credits(db, "Night Drive")
    L.set_splits(db, "Night Drive", writers=["Ana Ruíz=60", "Ben Ode=40"],
                 publishers=["Pub=100"])
    L.add_contract(db, "Deal", party="Label Ltd", starts="2026-01-01", expires="2027-01-01")
    L.add_release(db, "Night Drive EP", artist="Ana Ruíz", upc="012345678905",
                  release_date="2027-01-15", distributor="DistroCo",
                  tracks=["Night Drive=USRC17607839"])
    return db


def test_ics_calendar(full: Database, tmp_path: Path) -> None:
    path = tmp_path / "sessions.ics"
    got = L.write_calendar(full, path)
    raw = path.read_bytes()
    assert raw.startswith(b"BEGIN:VCALENDAR\r\n") and raw.endswith(b"END:VCALENDAR\r\n")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    text = raw.decode().replace("\r\n ", "")  # unfold
    assert text.count("BEGIN:VEVENT") == len(got) == 1
    assert "DTSTART:20261201T100000Z" in text and "DTEND:20261201T140000Z" in text
    assert "SUMMARY:Studio A: Night Drive" in text
    assert "Vocals\\; takes 1-12\\, comp later\\nbring the U87" in text
    assert f"UID:session-{got[0].id}@" in text


def test_invoice_html_and_pdf(full: Database, tmp_path: Path) -> None:
    inv = L.write_invoice(full, "INV-1", html=tmp_path / "i.html", pdf=tmp_path / "i.pdf")
    html = (tmp_path / "i.html").read_text()
    assert "Invoice INV-1" in html and "Label Ltd" in html and "740.00" in html
    assert inv.total_minor == 74000
    _check_pdf((tmp_path / "i.pdf").read_bytes(), pages=1)


def test_split_sheet_html_and_pdf(full: Database, tmp_path: Path) -> None:
    L.write_split_sheet(full, "Night Drive", html=tmp_path / "s.html", pdf=tmp_path / "s.pdf")
    html = (tmp_path / "s.html").read_text()
    assert "Ana Ruíz</td><td class='n'>60.00%" in html and "100.00%" in html
    _check_pdf((tmp_path / "s.pdf").read_bytes(), pages=1)


def _check_pdf(data: bytes, pages: int) -> None:
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == pages
    assert b"/FontFile2" in data  # DejaVu embedded: any name prints
    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S)
    decoded = [zlib.decompress(s) for s in streams if s[:1] == b"x"]
    assert any(b"Tj" in d or b"TJ" in d for d in decoded)  # text is drawn


def test_budget_csv_and_chart(full: Database, tmp_path: Path) -> None:
    r = L.write_budget_report(full, "EP", csv=tmp_path / "b.csv", chart=tmp_path / "b.png")
    rows = list(csv.reader(io.StringIO((tmp_path / "b.csv").read_text())))
    assert rows[0] == ["category", "budget_EUR", "actual_EUR", "remaining_EUR", "over"]
    assert rows[1:] == [["mixing", "0.00", "120.50", "-120.50", "yes"],
                        ["studio", "200.00", "240.00", "-40.00", "yes"],
                        ["total", "200.00", "360.50", "-160.50", "yes"]]
    assert len(r.warnings) == 2
    with Image.open(tmp_path / "b.png") as im:
        assert im.format == "PNG" and im.size[0] >= 300
        # the over-budget bars are drawn in red (#c0392b)
        px = np.asarray(im.convert("RGB")).astype(int)
        red = (np.abs(px - [0xC0, 0x39, 0x2B]) < 8).all(axis=-1)
        assert red.sum() > 500
    with pytest.raises(LedgerError, match="png"):
        L.write_budget_report(full, "EP", chart=tmp_path / "b.gif")
    assert not (tmp_path / "b.gif").exists()


def test_release_json_csv_ddex(full: Database, tmp_path: Path) -> None:
    L.export_release(full, "Night Drive EP", json=tmp_path / "r.json", csv=tmp_path / "r.csv",
                     ddex=tmp_path / "r.xml")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["upc"] == "012345678905" and data["date"] == "2027-01-15"
    assert data["tracks"][0]["isrc"] == "USRC17607839"
    assert {c["role"] for c in data["tracks"][0]["credits"]} == {"engineer", "writer"}
    rows = list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))
    assert rows == [{"release": "Night Drive EP", "artist": "Ana Ruíz", "upc": "012345678905",
                     "date": "2027-01-15", "distributor": "DistroCo", "position": "1",
                     "title": "Night Drive", "isrc": "USRC17607839"}]
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert root.tag == f"{{{ERN_NS}}}NewReleaseMessage"
    assert root.findtext("ReleaseList/Release/ReleaseId/ICPN") == "012345678905"
    assert root.findtext("ResourceList/SoundRecording/SoundRecordingEdition/ResourceId/ISRC") \
        == "USRC17607839"
    assert root.findtext("MessageHeader/MessageRecipient/PartyName/FullName") == "DistroCo"
    parties = {p.findtext("PartyReference") for p in root.iter("Party")}
    refs = {e.text for e in root.iter() if e.tag.endswith("PartyReference")
            and e.tag != "PartyReference"}
    assert refs and refs <= parties  # every reference resolves
    resources = {e.findtext("ResourceReference") for e in root.iter("SoundRecording")}
    assert {e.text for e in root.iter("ReleaseResourceReference")} <= resources


def _dump(db: Database) -> dict[str, list[tuple]]:
    with db.transaction() as s:
        return {t.name: [tuple(r) for r in s.execute(select(t).order_by(
            *t.primary_key.columns))] for t in ledger_tables()}


def test_backup_restore_round_trips_every_row(full: Database, tmp_path: Path,
                                              backend: str, request: pytest.FixtureRequest
                                              ) -> None:
    from ledger_support import new_url

    before = _dump(full)
    assert all(before.values()), [k for k, v in before.items() if not v]  # every table
    path = tmp_path / "backup.json"
    counts = L.backup_ledger(full, path)
    assert counts == {k: len(v) for k, v in before.items()}
    other = open_database(new_url(backend, tmp_path, request))
    try:
        L.restore_ledger(other, path)
        assert _dump(other) == before
        # new rows after a restore get fresh ids (sequences follow on PostgreSQL)
        assert L.add_person(other, "New Person").id > max(r[0] for r in before["ledger_people"])
        with pytest.raises(ConflictError, match="--force"):
            L.restore_ledger(other, path)
        L.restore_ledger(other, path, force=True)
        assert _dump(other) == before
        broken = json.loads(path.read_text())
        broken["tables"]["ledger_people"].append({**broken["tables"]["ledger_people"][0],
                                                  "id": 999, "name": None})
        (tmp_path / "broken.json").write_text(json.dumps(broken))
        with pytest.raises(ConflictError, match="refused"):
            L.restore_ledger(other, tmp_path / "broken.json", force=True)
        assert _dump(other) == before  # nothing half-written
        del broken["tables"]["ledger_people"][-1]["email"]
        (tmp_path / "broken.json").write_text(json.dumps(broken))
        with pytest.raises(LedgerError, match="lacks the column email"):
            L.restore_ledger(other, tmp_path / "broken.json", force=True)
        (tmp_path / "bad.json").write_bytes(b"\xff\xfe not json")
        with pytest.raises(LedgerError, match="not a ledger backup"):
            L.restore_ledger(other, tmp_path / "bad.json", force=True)
    finally:
        other.close()
