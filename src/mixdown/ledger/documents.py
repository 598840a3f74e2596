"""Documents for people: an invoice and a split sheet as HTML and PDF, budget vs actual as
CSV and a chart, release metadata as JSON and CSV, and a DDEX ERN 4-style XML message."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from mixdown.ledger.money import BudgetReport, InvoiceRecord
from mixdown.ledger.releases import ReleaseRecord
from mixdown.ledger.rights import CreditRecord, SplitSheet
from mixdown.ledger.values import format_money, money_text, share_text

_CSS = ("body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:48em;color:#222}"
        "table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3em .6em;"
        "border-bottom:1px solid #ddd}td.n,th.n{text-align:right}tfoot td{font-weight:700}")


def _page(title: str, body: list[str]) -> str:
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")


def invoice_html(inv: InvoiceRecord) -> str:
    """A self-contained HTML invoice."""
    rows = [f"<tr><td>{x.position}</td><td>{escape(x.description)}</td><td class='n'>"
            f"{money_text(x.amount_minor, inv.currency)}</td></tr>" for x in inv.lines]
    due = f"<p>Due: {inv.due.isoformat()}</p>" if inv.due else ""
    return _page(f"Invoice {inv.number}", [
        f"<h1>Invoice {escape(inv.number)}</h1>", f"<p>To: {escape(inv.party)}</p>",
        f"<p>Issued: {inv.issued.isoformat()}</p>", due,
        "<table><thead><tr><th>#</th><th>Description</th>"
        f"<th class='n'>Amount ({inv.currency})</th></tr></thead><tbody>", *rows,
        f"</tbody><tfoot><tr><td></td><td>Total</td><td class='n'>"
        f"{money_text(inv.total_minor, inv.currency)}</td></tr></tfoot></table>",
        f"<p>Status: {escape(inv.status)}</p>"])


def split_sheet_html(sheet: SplitSheet, credits: tuple[CreditRecord, ...] = ()) -> str:
    """A self-contained HTML split sheet (with the song's credits)."""
    body = [f"<h1>Split sheet: {escape(sheet.song)}</h1>"]
    for label, shares in (("Writers", sheet.writers), ("Publishers", sheet.publishers)):
        if not shares:
            continue
        body.append(f"<h2>{label}</h2><table><thead><tr><th>Name</th><th class='n'>Share</th>"
                    "</tr></thead><tbody>")
        body += [f"<tr><td>{escape(x.party)}</td><td class='n'>{share_text(x.share_bp)}%</td>"
                 "</tr>" for x in shares]
        total = sum(x.share_bp for x in shares)
        body.append(f"</tbody><tfoot><tr><td>Total</td><td class='n'>{share_text(total)}%</td>"
                    "</tr></tfoot></table>")
    if credits:
        body.append("<h2>Credits</h2><ul>")
        body += [f"<li>{escape(c.person)}: {escape(c.role)}</li>" for c in credits]
        body.append("</ul>")
    return _page(f"Split sheet {sheet.song}", body)


def _pdf() -> Any:
    from fpdf import FPDF
    from matplotlib import font_manager

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    # DejaVu (shipped with matplotlib) covers accents, Greek, Cyrillic...: any name prints.
    regular = font_manager.findfont("DejaVu Sans", fallback_to_default=False)
    bold = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans",
                                                             weight="bold"))
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.set_font("DejaVu", size=11)
    return pdf


def _table(pdf: Any, head: tuple[str, str], rows: list[tuple[str, str]],
           foot: tuple[str, str]) -> None:
    width = pdf.epw
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(width * 0.7, 8, head[0], border="B")
    pdf.cell(width * 0.3, 8, head[1], border="B", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for a, b in rows:
        y = pdf.get_y()
        pdf.multi_cell(width * 0.7, 7, a, new_x="RIGHT", new_y="TOP")
        h = pdf.get_y() - y
        pdf.set_xy(pdf.l_margin + width * 0.7, y)
        pdf.cell(width * 0.3, 7, b, align="R", new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), y + h))
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(width * 0.7, 8, foot[0], border="T")
    pdf.cell(width * 0.3, 8, foot[1], border="T", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)


def invoice_pdf(inv: InvoiceRecord) -> bytes:
    """The invoice as a one-document PDF."""
    pdf = _pdf()
    pdf.set_font("DejaVu", "B", 18)
    pdf.cell(0, 12, f"Invoice {inv.number}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    for line in (f"To: {inv.party}", f"Issued: {inv.issued.isoformat()}",
                 *([f"Due: {inv.due.isoformat()}"] if inv.due else [])):
        pdf.multi_cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _table(pdf, ("Description", f"Amount ({inv.currency})"),
           [(x.description, money_text(x.amount_minor, inv.currency)) for x in inv.lines],
           ("Total", format_money(inv.total_minor, inv.currency)))
    return bytes(pdf.output())


def split_sheet_pdf(sheet: SplitSheet, credits: tuple[CreditRecord, ...] = ()) -> bytes:
    """The split sheet as a PDF."""
    pdf = _pdf()
    pdf.set_font("DejaVu", "B", 18)
    pdf.multi_cell(0, 12, f"Split sheet: {sheet.song}", new_x="LMARGIN", new_y="NEXT")
    for label, shares in (("Writers", sheet.writers), ("Publishers", sheet.publishers)):
        if shares:
            pdf.ln(3)
            _table(pdf, (label, "Share"), [(x.party, f"{share_text(x.share_bp)}%")
                                           for x in shares],
                   ("Total", f"{share_text(sum(x.share_bp for x in shares))}%"))
    if credits:
        pdf.ln(3)
        pdf.set_font("DejaVu", "B", 12)
        pdf.cell(0, 8, "Credits", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 11)
        for c in credits:
            pdf.multi_cell(0, 7, f"{c.person}: {c.role}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- budget --------------------------------------------------------------------------------


def budget_csv(report: BudgetReport) -> str:
    """category, budget, actual, remaining, over (amounts in the budget's currency)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["category", f"budget_{report.currency}", f"actual_{report.currency}",
                f"remaining_{report.currency}", "over"])
    for r in report.rows:
        w.writerow([r.category, money_text(r.budget_minor, report.currency),
                    money_text(r.actual_minor, report.currency),
                    money_text(r.remaining_minor, report.currency), "yes" if r.over else "no"])
    w.writerow(["total", money_text(report.budget_minor, report.currency),
                money_text(report.actual_minor, report.currency),
                money_text(report.budget_minor - report.actual_minor, report.currency),
                "yes" if report.actual_minor > report.budget_minor else "no"])
    return buf.getvalue()


def budget_chart(report: BudgetReport, path: Path, fmt: str = "png") -> None:
    """A bar chart (``fmt``: png, svg or pdf): budget and actual per category."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from mixdown.ledger.values import CURRENCY_DIGITS

    scale = 10 ** CURRENCY_DIGITS.get(report.currency, 2)
    cats = [r.category for r in report.rows]
    xs = range(len(cats))
    fig, ax = plt.subplots(figsize=(max(4.0, 1.2 * len(cats) + 2), 3.6), dpi=100)
    try:
        ax.bar([x - 0.2 for x in xs], [r.budget_minor / scale for r in report.rows], 0.4,
               label="budget", color="#6a8caf")
        ax.bar([x + 0.2 for x in xs], [r.actual_minor / scale for r in report.rows], 0.4,
               label="actual", color=["#c0392b" if r.over else "#2e8b57"
                                      for r in report.rows])
        ax.set_xticks(list(xs), cats)
        ax.set_ylabel(report.currency)
        ax.set_title(f"{report.budget}: budget vs actual")
        ax.legend()
        fig.tight_layout()
        fig.savefig(path, format=fmt)
    finally:
        plt.close(fig)


# --- release metadata ----------------------------------------------------------------------


def release_json(r: ReleaseRecord, credits: dict[str, tuple[CreditRecord, ...]]) -> str:
    """Release metadata (with each track's credits) as JSON."""
    data = r.as_dict()
    for t in data["tracks"]:
        t["credits"] = [c.as_dict() for c in credits.get(t["song"], ())]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def release_csv(r: ReleaseRecord) -> str:
    """One row per track: release fields repeated, then position, title, ISRC."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["release", "artist", "upc", "date", "distributor", "position", "title", "isrc"])
    for t in r.tracks:
        w.writerow([r.title, r.artist, r.upc or "", r.release_date.isoformat()
                    if r.release_date else "", r.distributor or "", t.position, t.song, t.isrc])
    return buf.getvalue()


ERN_NS = "http://ddex.net/xml/ern/43"


def release_ddex(r: ReleaseRecord, credits: dict[str, tuple[CreditRecord, ...]], *,
                 sender: str = "mixdown", now: datetime | None = None) -> bytes:
    """A DDEX ERN 4-style NewReleaseMessage: parties, sound recordings (ISRC), the release
    (ICPN = UPC) and its track releases. Not a certified ERN feed: a faithful skeleton."""
    ET.register_namespace("ern", ERN_NS)
    root = ET.Element(f"{{{ERN_NS}}}NewReleaseMessage",
                      {"ReleaseProfileVersionId": "Audio", "LanguageAndScriptCode": "en",
                       "AvsVersionId": "4"})

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, tag, attrs)
        if text is not None:
            el.text = text
        return el

    head = sub(root, "MessageHeader")
    sub(head, "MessageThreadId", f"release-{r.id}")
    sub(head, "MessageId", f"release-{r.id}-{(now or datetime.now(UTC)):%Y%m%d%H%M%S}")
    snd = sub(head, "MessageSender")
    sub(snd, "PartyId", sender)
    sub(sub(snd, "PartyName"), "FullName", sender)
    if r.distributor:
        rcp = sub(head, "MessageRecipient")
        sub(rcp, "PartyId", r.distributor)
        sub(sub(rcp, "PartyName"), "FullName", r.distributor)
    sub(head, "MessageCreatedDateTime",
        (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"))

    parties: dict[str, str] = {}

    def party(name: str) -> str:
        if name not in parties:
            parties[name] = f"P{len(parties) + 1}"
        return parties[name]

    party(r.artist)
    for cs in credits.values():
        for c in cs:
            party(c.person)
    plist = sub(root, "PartyList")
    for name, ref in parties.items():
        p = sub(plist, "Party")
        sub(p, "PartyReference", ref)
        sub(sub(p, "PartyName"), "FullName", name)

    resources = sub(root, "ResourceList")
    for t in r.tracks:
        sr = sub(resources, "SoundRecording")
        sub(sr, "ResourceReference", f"A{t.position}")
        sub(sr, "Type", "MusicalWorkSoundRecording")
        sub(sub(sr, "SoundRecordingEdition"), "ResourceId").append(_text("ISRC", t.isrc))
        dt = sub(sr, "DisplayTitleText", t.song)
        dt.set("LanguageAndScriptCode", "en")
        da = sub(sr, "DisplayArtist", SequenceNumber="1")
        sub(da, "ArtistPartyReference", party(r.artist))
        sub(da, "DisplayArtistRole", "MainArtist")
        for i, c in enumerate(credits.get(t.song, ()), 1):
            con = sub(sr, "Contributor", SequenceNumber=str(i))
            sub(con, "ContributorPartyReference", party(c.person))
            sub(con, "Role", c.role.title().replace(" ", ""))

    releases = sub(root, "ReleaseList")
    rel = sub(releases, "Release")
    sub(rel, "ReleaseReference", "R0")
    kind = "Single" if len(r.tracks) == 1 else "EP" if len(r.tracks) <= 6 else "Album"
    sub(rel, "ReleaseType", kind)
    rid = sub(rel, "ReleaseId")
    if r.upc:
        sub(rid, "ICPN", r.upc)
    sub(rel, "DisplayTitleText", r.title)
    sub(rel, "DisplayArtistName", r.artist)
    if r.release_date:
        sub(rel, "ReleaseDate", r.release_date.isoformat())
    group = sub(rel, "ResourceGroup")
    for t in r.tracks:
        item = sub(group, "ResourceGroupContentItem")
        sub(item, "SequenceNumber", str(t.position))
        sub(item, "ReleaseResourceReference", f"A{t.position}")
    for t in r.tracks:
        tr = sub(releases, "TrackRelease")
        sub(tr, "ReleaseReference", f"R{t.position}")
        sub(sub(tr, "ReleaseId"), "ISRC", t.isrc)
        sub(tr, "ReleaseResourceReference", f"A{t.position}")
    deals = sub(root, "DealList")
    if r.release_date:
        d = sub(deals, "ReleaseDeal")
        sub(d, "DealReleaseReference", "R0")
        terms = sub(sub(d, "Deal"), "DealTerms")
        sub(terms, "TerritoryCode", "Worldwide")
        sub(sub(terms, "ValidityPeriod"), "StartDate", r.release_date.isoformat())
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _text(tag: str, text: str) -> ET.Element:
    el = ET.Element(tag)
    el.text = text
    return el


__all__ = ["ERN_NS", "budget_chart", "budget_csv", "invoice_html", "invoice_pdf",
           "release_csv", "release_ddex", "release_json", "split_sheet_html",
           "split_sheet_pdf"]
