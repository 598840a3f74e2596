"""``mixdown ledger <thing> <verb>``: the production ledger from the command line.

Every value is taken as text and parsed by mixdown, so a bad one is exit 1 with one line
(exit 2 stays for unknown options). ``--database URL``, else ``$MIXDOWN_DATABASE_URL``, else
``./mixdown.db``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mixdown.cli.output import print_json, warn
from mixdown.core.errors import MixdownError

DbOpt = Annotated[str | None, typer.Option(
    "--database", metavar="URL",
    help="Database URL (else $MIXDOWN_DATABASE_URL, else ./mixdown.db).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print strict JSON on stdout.")]

app = typer.Typer(name="ledger", no_args_is_help=True, help=(
    "The production ledger: people, rooms, sessions, budgets, credits, splits, contracts "
    "and releases."))


def _sub(name: str, text: str) -> typer.Typer:
    sub = typer.Typer(name=name, no_args_is_help=True, help=text)
    app.add_typer(sub, name=name)
    return sub


person_app = _sub("person", "People: engineers, musicians, writers, producers.")
studio_app = _sub("studio", "Studios (rooms belong to them).")
room_app = _sub("room", "Bookable rooms with an hourly rate.")
song_app = _sub("song", "Songs, linked to mixdown projects.")
session_app = _sub("session", "Recording sessions: book, list, move, cancel, calendar.")
budget_app = _sub("budget", "Production budgets: lines, and budget vs actual.")
expense_app = _sub("expense", "Money spent against a budget.")
invoice_app = _sub("invoice", "Invoices, as HTML and PDF.")
credit_app = _sub("credit", "Credits: who did what on a song.")
split_app = _sub("split", "Split sheets: writer and publisher shares.")
contract_app = _sub("contract", "Contracts and licences, and those about to expire.")
release_app = _sub("release", "Releases: metadata, tracks, the ready checklist, exports.")


def _svc() -> Any:
    from mixdown.services import ledger

    return ledger


def _db(url: str | None) -> Any:
    return _svc().open_ledger(url)


def _show(record: Any, as_json: bool, lines: list[str]) -> None:
    if as_json:
        print_json(record.as_dict())
    else:
        for line in lines:
            typer.echo(line)


def _list(records: Any, as_json: bool, line: Any) -> None:
    if as_json:
        print_json([r.as_dict() for r in records])
    else:
        for r in records:
            typer.echo(line(r))


def _id(text: str, what: str) -> int:
    from mixdown.services.ledger import parse_positive_int

    return parse_positive_int(text, what)


def _person_line(p: Any) -> str:
    extra = [x for x in (p.email, p.phone, p.pro and f"PRO {p.pro}", p.ipi and f"IPI {p.ipi}")
             if x]
    return f"{p.name} ({', '.join(p.roles) or 'no role'})" + (
        f": {'; '.join(extra)}" if extra else "")


def _room_line(r: Any) -> str:
    where = f" at {r.studio}" if r.studio else ""
    return f"{r.name}{where}: {r.as_dict()['rate']} per hour"


def _song_line(s: Any) -> str:
    link = f" -> {s.project_path}" if s.project_path else ""
    ver = f" @ {s.project_version}" if s.project_version else ""
    bud = f" [{s.budget}]" if s.budget else ""
    return f"{s.name}{link}{ver}{bud}"


# --- people ------------------------------------------------------------------------------


@person_app.command("add")
def person_add(
    name: Annotated[str, typer.Argument(help="Full name (unique).")],
    role: Annotated[list[str] | None, typer.Option("--role", help="A role (repeatable): "
                    "engineer, writer, producer, musician...")] = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number.")] = None,
    pro: Annotated[str | None, typer.Option("--pro", help="Performing rights organisation.")]
    = None,
    ipi: Annotated[str | None, typer.Option("--ipi", help="IPI name number (9-11 digits).")]
    = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add a person."""
    p = _svc().add_person(_db(database), name, roles=role or [], email=email, phone=phone,
                          pro=pro, ipi=ipi)
    _show(p, as_json, [f"added {_person_line(p)}"])


@person_app.command("list")
def person_list(
    role: Annotated[str | None, typer.Option("--role", help="Only people with this role.")]
    = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """List people."""
    _list(_svc().list_people(_db(database), role=role), as_json, _person_line)


@person_app.command("show")
def person_show(name: Annotated[str, typer.Argument(help="Name.")], database: DbOpt = None,
                as_json: JsonOpt = False) -> None:
    """Show a person."""
    p = _svc().show_person(_db(database), name)
    _show(p, as_json, [_person_line(p)])


@person_app.command("edit")
def person_edit(
    name: Annotated[str, typer.Argument(help="Name.")],
    new_name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    role: Annotated[list[str] | None, typer.Option("--role", help="Roles (replace all).")]
    = None,
    email: Annotated[str | None, typer.Option("--email", help="E-mail address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="Phone number.")] = None,
    pro: Annotated[str | None, typer.Option("--pro", help="PRO.")] = None,
    ipi: Annotated[str | None, typer.Option("--ipi", help="IPI name number.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a person's details."""
    p = _svc().edit_person(_db(database), name, new_name=new_name, roles=role, email=email,
                           phone=phone, pro=pro, ipi=ipi)
    _show(p, as_json, [f"changed {_person_line(p)}"])


@person_app.command("remove")
def person_remove(name: Annotated[str, typer.Argument(help="Name.")],
                  database: DbOpt = None) -> None:
    """Remove a person (not one on sessions, credits or splits)."""
    _svc().remove_person(_db(database), name)
    typer.echo(f"removed {name}")


# --- studios and rooms ------------------------------------------------------------------


@studio_app.command("add")
def studio_add(name: Annotated[str, typer.Argument(help="Studio name.")],
               address: Annotated[str | None, typer.Option("--address", help="Address.")]
               = None, database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Add a studio."""
    st = _svc().add_studio(_db(database), name, address=address)
    _show(st, as_json, [f"added studio {st.name}"])


@studio_app.command("list")
def studio_list(database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List studios and their rooms."""
    _list(_svc().list_studios(_db(database)), as_json,
          lambda s: f"{s.name}: {', '.join(s.rooms) or 'no rooms'}")


@studio_app.command("remove")
def studio_remove(name: Annotated[str, typer.Argument(help="Studio name.")],
                  database: DbOpt = None) -> None:
    """Remove a studio without rooms."""
    _svc().remove_studio(_db(database), name)
    typer.echo(f"removed studio {name}")


@room_app.command("add")
def room_add(
    name: Annotated[str, typer.Argument(help="Room name (unique).")],
    rate: Annotated[str, typer.Option("--rate", help="Price per hour, e.g. 60 or 62.50.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code, e.g. EUR.")],
    studio: Annotated[str | None, typer.Option("--studio", help="The studio it is in.")]
    = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add a room with its hourly rate."""
    r = _svc().add_room(_db(database), name, rate=rate, currency=currency, studio=studio)
    _show(r, as_json, [f"added {_room_line(r)}"])


@room_app.command("list")
def room_list(database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List rooms."""
    _list(_svc().list_rooms(_db(database)), as_json, _room_line)


@room_app.command("show")
def room_show(name: Annotated[str, typer.Argument(help="Room name.")], database: DbOpt = None,
              as_json: JsonOpt = False) -> None:
    """Show a room."""
    r = _svc().show_room(_db(database), name)
    _show(r, as_json, [_room_line(r)])


@room_app.command("edit")
def room_edit(
    name: Annotated[str, typer.Argument(help="Room name.")],
    new_name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    rate: Annotated[str | None, typer.Option("--rate", help="Price per hour.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="ISO 4217 code.")] = None,
    studio: Annotated[str | None, typer.Option("--studio", help="Studio.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a room."""
    r = _svc().edit_room(_db(database), name, new_name=new_name, rate=rate, currency=currency,
                         studio=studio)
    _show(r, as_json, [f"changed {_room_line(r)}"])


@room_app.command("remove")
def room_remove(name: Annotated[str, typer.Argument(help="Room name.")],
                database: DbOpt = None) -> None:
    """Remove a room without sessions."""
    _svc().remove_room(_db(database), name)
    typer.echo(f"removed room {name}")


# --- songs -------------------------------------------------------------------------------


@song_app.command("add")
def song_add(
    name: Annotated[str, typer.Argument(help="Song name (unique).")],
    project: Annotated[str | None, typer.Option("--project", help="The mixdown project "
                       "folder (with song.toml).")] = None,
    version: Annotated[str | None, typer.Option("--version", help="A version of the "
                       "project (as the studio names it).")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="The budget it belongs to.")]
    = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add a song, optionally linked to a mixdown project."""
    s = _svc().add_song(_db(database), name, project=project, version=version, budget=budget)
    _show(s, as_json, [f"added {_song_line(s)}"])


@song_app.command("list")
def song_list(budget: Annotated[str | None, typer.Option("--budget", help="Only this "
                                 "budget's songs.")] = None,
              database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List songs."""
    _list(_svc().list_songs(_db(database), budget=budget), as_json, _song_line)


@song_app.command("show")
def song_show(name: Annotated[str, typer.Argument(help="Song name.")], database: DbOpt = None,
              as_json: JsonOpt = False) -> None:
    """Show a song."""
    s = _svc().show_song(_db(database), name)
    _show(s, as_json, [_song_line(s)])


@song_app.command("edit")
def song_edit(
    name: Annotated[str, typer.Argument(help="Song name.")],
    new_name: Annotated[str | None, typer.Option("--name", help="New name.")] = None,
    project: Annotated[str | None, typer.Option("--project", help="Project folder.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="Project version.")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="Budget.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a song."""
    s = _svc().edit_song(_db(database), name, new_name=new_name, project=project,
                         version=version, budget=budget)
    _show(s, as_json, [f"changed {_song_line(s)}"])


@song_app.command("remove")
def song_remove(name: Annotated[str, typer.Argument(help="Song name.")],
                database: DbOpt = None) -> None:
    """Remove a song (not one on sessions, releases, credits or splits)."""
    _svc().remove_song(_db(database), name)
    typer.echo(f"removed song {name}")


# --- sessions ----------------------------------------------------------------------------

PeopleOpt = Annotated[list[str] | None, typer.Option("--person", help="A person booked "
                      "(repeatable).")]
SongsOpt = Annotated[list[str] | None, typer.Option("--song", help="A song worked on "
                     "(repeatable).")]


@session_app.command("book")
def session_book(
    room: Annotated[str, typer.Option("--room", help="Room name.")],
    start: Annotated[str, typer.Option("--start", help="ISO 8601, local time unless a zone "
                     "is given: 2026-12-01T10:00.")],
    end: Annotated[str, typer.Option("--end", help="ISO 8601 end (after the start).")],
    person: PeopleOpt = None, song: SongsOpt = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes.")] = None,
    budget: Annotated[str | None, typer.Option("--budget", help="Budget it is charged to "
                      "(default: the songs' budget).")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Book a room (refused if the room or a person is already booked then)."""
    s = _svc().book_session(_db(database), room=room, start=start, end=end,
                            people=person or [], songs=song or [], notes=notes or "",
                            budget=budget)
    _show(s, as_json, [f"booked {s.line()}"])


@session_app.command("list")
def session_list(
    start: Annotated[str | None, typer.Option("--from", help="From (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To (ISO 8601).")] = None,
    room: Annotated[str | None, typer.Option("--room", help="Only this room.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Only this person.")] = None,
    song: Annotated[str | None, typer.Option("--song", help="Only this song.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """List sessions by start time."""
    _list(_svc().list_sessions(_db(database), start=start, end=end, room=room, person=person,
                               song=song), as_json, lambda s: s.line())


@session_app.command("show")
def session_show(ident: Annotated[str, typer.Argument(metavar="ID", help="Session number.")],
                 database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Show a session."""
    s = _svc().show_session(_db(database), _id(ident, "session"))
    _show(s, as_json, [s.line(), f"cost {s.as_dict()['cost']}"] +
          ([f"notes: {s.notes}"] if s.notes else []))


@session_app.command("edit")
def session_edit(
    ident: Annotated[str, typer.Argument(metavar="ID", help="Session number.")],
    room: Annotated[str | None, typer.Option("--room", help="Room.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="New start.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="New end.")] = None,
    person: PeopleOpt = None, song: SongsOpt = None,
    notes: Annotated[str | None, typer.Option("--notes", help="Notes.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Move or change a session (people and songs given replace the old ones)."""
    s = _svc().edit_session(_db(database), _id(ident, "session"), room=room, start=start,
                            end=end, people=person, songs=song, notes=notes)
    _show(s, as_json, [f"changed {s.line()}"])


@session_app.command("remove")
def session_remove(ident: Annotated[str, typer.Argument(metavar="ID", help="Session number.")],
                   database: DbOpt = None) -> None:
    """Cancel a session."""
    _svc().cancel_session(_db(database), _id(ident, "session"))
    typer.echo(f"cancelled session #{ident}")


@session_app.command("calendar")
def session_calendar(
    file: Annotated[Path, typer.Argument(help="The .ics file to write.")],
    start: Annotated[str | None, typer.Option("--from", help="From (ISO 8601).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="To (ISO 8601).")] = None,
    room: Annotated[str | None, typer.Option("--room", help="Only this room.")] = None,
    person: Annotated[str | None, typer.Option("--person", help="Only this person.")] = None,
    database: DbOpt = None,
) -> None:
    """Write sessions as an iCalendar (.ics) file."""
    got = _svc().write_calendar(_db(database), file, start=start, end=end, room=room,
                                person=person)
    typer.echo(f"{file}: {len(got)} session(s)")


# --- budgets and expenses ----------------------------------------------------------------


@budget_app.command("add")
def budget_add(name: Annotated[str, typer.Argument(help="Budget name (an EP, an album).")],
               currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")],
               database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Add a production budget."""
    b = _svc().add_budget(_db(database), name, currency=currency)
    _show(b, as_json, [f"added budget {b.name} ({b.currency})"])


@budget_app.command("list")
def budget_list(database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List budgets."""
    _list(_svc().list_budgets(_db(database)), as_json, lambda b: f"{b.name} ({b.currency})")


@budget_app.command("line")
def budget_line(
    name: Annotated[str, typer.Argument(help="Budget name.")],
    category: Annotated[str, typer.Option("--category", help="studio, mixing, mastering...")],
    amount: Annotated[str, typer.Option("--amount", help="Planned, in the budget's currency.")],
    song: Annotated[str | None, typer.Option("--song", help="For one song.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Plan an amount for a category."""
    x = _svc().add_budget_line(_db(database), name, category=category, amount=amount,
                               song=song)
    _show(x, as_json, [f"{x.budget}: {x.category} {x.as_dict()['amount']}"])


def _report_lines(r: Any) -> list[str]:
    from mixdown.services.ledger import format_money

    out = [f"{r.budget} ({r.currency})"]
    for row in r.rows:
        out.append(f"  {row.category}: budget {format_money(row.budget_minor, r.currency)}, "
                   f"actual {format_money(row.actual_minor, r.currency)}"
                   + ("  OVER" if row.over else ""))
    out.append(f"  total: budget {format_money(r.budget_minor, r.currency)}, actual "
               f"{format_money(r.actual_minor, r.currency)}")
    return out


@budget_app.command("show")
def budget_show(name: Annotated[str, typer.Argument(help="Budget name.")],
                database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Budget vs actual per category (warnings on stderr for overruns)."""
    r = _svc().budget_report(_db(database), name)
    _show(r, as_json, _report_lines(r))
    warn(r.warnings)


@budget_app.command("report")
def budget_report(
    name: Annotated[str, typer.Argument(help="Budget name.")],
    files: Annotated[list[Path] | None, typer.Argument(help="Files to write: .csv, and a "
                     "chart as .png, .svg or .pdf.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Write budget vs actual as CSV and/or a chart."""
    csv = [f for f in files or [] if f.suffix.lower() == ".csv"]
    charts = [f for f in files or [] if f.suffix.lower() != ".csv"]
    if len(csv) > 1 or len(charts) > 1:
        raise MixdownError("give at most one .csv and one chart file")
    r = _svc().write_budget_report(_db(database), name, csv=csv[0] if csv else None,
                                   chart=charts[0] if charts else None)
    _show(r, as_json, _report_lines(r))
    warn(r.warnings)


@budget_app.command("remove")
def budget_remove(name: Annotated[str, typer.Argument(help="Budget name.")],
                  database: DbOpt = None) -> None:
    """Remove a budget with its lines and expenses."""
    _svc().remove_budget(_db(database), name)
    typer.echo(f"removed budget {name}")


@expense_app.command("add")
def expense_add(
    budget: Annotated[str, typer.Argument(help="Budget name.")],
    category: Annotated[str, typer.Option("--category", help="studio, mixing, travel...")],
    amount: Annotated[str, typer.Option("--amount", help="Amount, e.g. 120.50.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 (the budget's).")],
    date: Annotated[str, typer.Option("--date", help="YYYY-MM-DD.")],
    description: Annotated[str | None, typer.Option("--description", help="What it was.")]
    = None,
    song: Annotated[str | None, typer.Option("--song", help="For one song.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Record an expense."""
    db = _db(database)
    e = _svc().add_expense(db, budget, category=category, amount=amount,
                           currency=currency, spent_on=date, description=description or "",
                           song=song)
    _show(e, as_json, [f"expense #{e.id}: {e.category} {e.as_dict()['amount']}"])
    warn(w for w in _svc().budget_report(db, budget).warnings
         if w.startswith(f"over budget: {e.category} "))


@expense_app.command("list")
def expense_list(budget: Annotated[str, typer.Argument(help="Budget name.")],
                 database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List a budget's expenses."""
    _list(_svc().list_expenses(_db(database), budget), as_json,
          lambda e: f"#{e.id} {e.spent_on} {e.category} {e.as_dict()['amount']} "
                    f"{e.description}".rstrip())


@expense_app.command("remove")
def expense_remove(ident: Annotated[str, typer.Argument(metavar="ID", help="Expense number.")],
                   database: DbOpt = None) -> None:
    """Remove an expense."""
    _svc().remove_expense(_db(database), _id(ident, "expense"))
    typer.echo(f"removed expense #{ident}")


# --- invoices ----------------------------------------------------------------------------


def _invoice_lines(inv: Any) -> list[str]:
    from mixdown.services.ledger import format_money

    out = [f"invoice {inv.number} to {inv.party}, {inv.issued} ({inv.status})"]
    out += [f"  {x.position}. {x.description}: {format_money(x.amount_minor, inv.currency)}"
            for x in inv.lines]
    out.append(f"  total {format_money(inv.total_minor, inv.currency)}")
    return out


@invoice_app.command("add")
def invoice_add(
    number: Annotated[str, typer.Argument(help="Invoice number (unique).")],
    to: Annotated[str, typer.Option("--to", help="Who pays.")],
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")],
    date: Annotated[str, typer.Option("--date", help="Issue date YYYY-MM-DD.")],
    due: Annotated[str | None, typer.Option("--due", help="Due date YYYY-MM-DD.")] = None,
    session: Annotated[list[str] | None, typer.Option("--session", help="Bill a session's "
                       "room hours (repeatable).")] = None,
    line: Annotated[list[str] | None, typer.Option("--line", help="DESCRIPTION=AMOUNT "
                    "(repeatable).")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add an invoice."""
    inv = _svc().add_invoice(_db(database), number, party=to, currency=currency, issued=date,
                             due=due, sessions=session or [], lines=line or [])
    _show(inv, as_json, _invoice_lines(inv))


@invoice_app.command("list")
def invoice_list(database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List invoices."""
    _list(_svc().list_invoices(_db(database)), as_json,
          lambda i: f"{i.number} {i.issued} {i.party}: {i.as_dict()['total']} ({i.status})")


@invoice_app.command("show")
def invoice_show(number: Annotated[str, typer.Argument(help="Invoice number.")],
                 database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Show an invoice."""
    inv = _svc().show_invoice(_db(database), number)
    _show(inv, as_json, _invoice_lines(inv))


@invoice_app.command("export")
def invoice_export(
    number: Annotated[str, typer.Argument(help="Invoice number.")],
    files: Annotated[list[Path], typer.Argument(help="Files to write: .html and/or .pdf.")],
    database: DbOpt = None,
) -> None:
    """Write an invoice as HTML and/or PDF."""
    html, pdf = _by_suffix(files, (".html", ".pdf"))
    _svc().write_invoice(_db(database), number, html=html, pdf=pdf)
    for f in files:
        typer.echo(f"wrote {f}")


@invoice_app.command("status")
def invoice_status(number: Annotated[str, typer.Argument(help="Invoice number.")],
                   status: Annotated[str, typer.Argument(help="draft, sent, paid or void.")],
                   database: DbOpt = None) -> None:
    """Mark an invoice sent, paid or void."""
    inv = _svc().set_invoice_status(_db(database), number, status)
    typer.echo(f"invoice {inv.number}: {inv.status}")


@invoice_app.command("remove")
def invoice_remove(number: Annotated[str, typer.Argument(help="Invoice number.")],
                   database: DbOpt = None) -> None:
    """Remove an invoice."""
    _svc().remove_invoice(_db(database), number)
    typer.echo(f"removed invoice {number}")


def _by_suffix(files: list[Path], suffixes: tuple[str, ...]) -> list[Path | None]:
    out: dict[str, Path] = {}
    for f in files:
        suf = f.suffix.lower()
        if suf not in suffixes:
            raise MixdownError(f"{f}: write {' or '.join(suffixes)} files")
        if suf in out:
            raise MixdownError(f"two {suf} files given")
        out[suf] = f
    return [out.get(s) for s in suffixes]


# --- credits and splits ------------------------------------------------------------------


@credit_app.command("add")
def credit_add(song: Annotated[str, typer.Argument(help="Song name.")],
               person: Annotated[str, typer.Option("--person", help="Who.")],
               role: Annotated[str, typer.Option("--role", help="What they did.")],
               database: DbOpt = None) -> None:
    """Credit a person on a song."""
    c = _svc().add_credit(_db(database), song, person=person, role=role)
    typer.echo(f"credited {c.person} as {c.role} on {c.song}")


@credit_app.command("derive")
def credit_derive(song: Annotated[str, typer.Argument(help="Song name.")],
                  database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Credit everyone booked on the song's sessions with their roles."""
    got = _svc().derive_credits(_db(database), song)
    _list(got, as_json, lambda c: f"credited {c.person} as {c.role}")


@credit_app.command("list")
def credit_list(song: Annotated[str, typer.Argument(help="Song name.")],
                database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List a song's credits."""
    _list(_svc().list_credits(_db(database), song), as_json,
          lambda c: f"{c.person}: {c.role} ({c.source})")


@credit_app.command("remove")
def credit_remove(song: Annotated[str, typer.Argument(help="Song name.")],
                  person: Annotated[str, typer.Option("--person", help="Who.")],
                  role: Annotated[str, typer.Option("--role", help="Role.")],
                  database: DbOpt = None) -> None:
    """Remove a credit."""
    _svc().remove_credit(_db(database), song, person=person, role=role)
    typer.echo(f"removed {person} as {role} on {song}")


def _sheet_lines(sh: Any) -> list[str]:
    from mixdown.services.ledger import share_text

    out = [f"split sheet: {sh.song}" + ("" if sh.complete else " (incomplete)")]
    out += [f"  writer {x.party}: {share_text(x.share_bp)}%" for x in sh.writers]
    out += [f"  publisher {x.party}: {share_text(x.share_bp)}%" for x in sh.publishers]
    return out


@split_app.command("set")
def split_set(
    song: Annotated[str, typer.Argument(help="Song name.")],
    writer: Annotated[list[str] | None, typer.Option("--writer", help="NAME=PERCENT, a known "
                      "person (repeatable; total exactly 100).")] = None,
    publisher: Annotated[list[str] | None, typer.Option("--publisher", help="NAME=PERCENT "
                         "(repeatable; total exactly 100).")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Set a song's split sheet (replaces the old one)."""
    sh = _svc().set_splits(_db(database), song, writers=writer or [],
                           publishers=publisher or [])
    _show(sh, as_json, _sheet_lines(sh))


@split_app.command("show")
def split_show(song: Annotated[str, typer.Argument(help="Song name.")],
               database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Show a song's split sheet."""
    sh = _svc().show_splits(_db(database), song)
    _show(sh, as_json, _sheet_lines(sh))


@split_app.command("export")
def split_export(
    song: Annotated[str, typer.Argument(help="Song name.")],
    files: Annotated[list[Path], typer.Argument(help="Files to write: .html and/or .pdf.")],
    database: DbOpt = None,
) -> None:
    """Write a split sheet (with credits) as HTML and/or PDF."""
    html, pdf = _by_suffix(files, (".html", ".pdf"))
    _svc().write_split_sheet(_db(database), song, html=html, pdf=pdf)
    for f in files:
        typer.echo(f"wrote {f}")


# --- contracts ---------------------------------------------------------------------------


def _contract_line(c: Any) -> str:
    until = f" until {c.expires}" if c.expires else ""
    return (f"{c.title} ({c.kind}, {c.status}) with {c.party}, {c.territory}, from "
            f"{c.starts}{until}, fee {c.as_dict()['fee']}")


@contract_app.command("add")
def contract_add(
    title: Annotated[str, typer.Argument(help="Title (unique).")],
    party: Annotated[str, typer.Option("--party", help="The other party.")],
    start: Annotated[str, typer.Option("--start", help="Start of the term, YYYY-MM-DD.")],
    expires: Annotated[str | None, typer.Option("--expires", help="End of the term.")] = None,
    kind: Annotated[str, typer.Option("--kind", help="contract or licence.")] = "contract",
    territory: Annotated[str, typer.Option("--territory", help="Where it applies.")] = "World",
    fee: Annotated[str, typer.Option("--fee", help="Fee amount.")] = "0",
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")] = "EUR",
    status: Annotated[str, typer.Option("--status", help="draft, sent, signed, active, "
                      "expired or terminated.")] = "draft",
    song: Annotated[str | None, typer.Option("--song", help="The song it covers.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add a contract or licence."""
    c = _svc().add_contract(_db(database), title, party=party, starts=start, expires=expires,
                            kind=kind, territory=territory, fee=fee, currency=currency,
                            status=status, song=song)
    _show(c, as_json, [f"added {_contract_line(c)}"])


@contract_app.command("list")
def contract_list(
    expiring: Annotated[str | None, typer.Option("--expiring", metavar="DAYS", help="Only "
                        "those expiring within DAYS days.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """List contracts by expiry."""
    days = None if expiring is None else _days(expiring)
    _list(_svc().list_contracts(_db(database), expiring_within=days), as_json, _contract_line)


def _days(text: str) -> int:
    from mixdown.services.ledger import parse_positive_int

    return 0 if text.strip() == "0" else parse_positive_int(text, "days")


@contract_app.command("show")
def contract_show(title: Annotated[str, typer.Argument(help="Title.")], database: DbOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Show a contract."""
    c = _svc().show_contract(_db(database), title)
    _show(c, as_json, [_contract_line(c)])


@contract_app.command("edit")
def contract_edit(
    title: Annotated[str, typer.Argument(help="Title.")],
    status: Annotated[str | None, typer.Option("--status", help="New status.")] = None,
    expires: Annotated[str | None, typer.Option("--expires", help="New expiry.")] = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a contract's status or expiry."""
    c = _svc().edit_contract(_db(database), title, status=status, expires=expires)
    _show(c, as_json, [f"changed {_contract_line(c)}"])


@contract_app.command("remove")
def contract_remove(title: Annotated[str, typer.Argument(help="Title.")],
                    database: DbOpt = None) -> None:
    """Remove a contract."""
    _svc().remove_contract(_db(database), title)
    typer.echo(f"removed contract {title}")


# --- releases ----------------------------------------------------------------------------

TracksOpt = Annotated[list[str] | None, typer.Option("--track", help="SONG=ISRC, in order "
                      "(repeatable).")]
DeliveriesOpt = Annotated[list[str] | None, typer.Option("--delivery", help="SONG=FOLDER: "
                          "the song's `mixdown deliver` folder (repeatable).")]


def _release_lines(r: Any) -> list[str]:
    out = [f"{r.title} by {r.artist}: UPC {r.upc or '-'}, {r.release_date or 'no date'}, "
           f"{r.distributor or 'no distributor'}"]
    out += [f"  {t.position}. {t.song} ({t.isrc})" for t in r.tracks]
    return out


@release_app.command("add")
def release_add(
    title: Annotated[str, typer.Argument(help="Release title (unique).")],
    artist: Annotated[str, typer.Option("--artist", help="Main artist.")],
    upc: Annotated[str | None, typer.Option("--upc", help="UPC-A or EAN-13.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Release date YYYY-MM-DD.")] = None,
    distributor: Annotated[str | None, typer.Option("--distributor", help="Distributor.")]
    = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Delivery target the "
                        "audio must pass (spotify, apple...; default: every target).")] = None,
    artwork: Annotated[str | None, typer.Option("--artwork", help="Cover image file.")] = None,
    artwork_size: Annotated[str | None, typer.Option("--artwork-size", help="Smallest side "
                            "in pixels (default 3000).")] = None,
    track: TracksOpt = None, delivery: DeliveriesOpt = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Add a release with its tracks."""
    r = _svc().add_release(_db(database), title, artist=artist, upc=upc, release_date=date,
                           distributor=distributor, platform=platform, artwork=artwork,
                           artwork_min_px=artwork_size, tracks=track or [],
                           deliveries=delivery or [])
    _show(r, as_json, ["added " + _release_lines(r)[0], *_release_lines(r)[1:]])


@release_app.command("edit")
def release_edit(
    title: Annotated[str, typer.Argument(help="Release title.")],
    artist: Annotated[str | None, typer.Option("--artist", help="Main artist.")] = None,
    upc: Annotated[str | None, typer.Option("--upc", help="UPC-A or EAN-13.")] = None,
    date: Annotated[str | None, typer.Option("--date", help="Release date.")] = None,
    distributor: Annotated[str | None, typer.Option("--distributor", help="Distributor.")]
    = None,
    platform: Annotated[str | None, typer.Option("--platform", help="Delivery target.")]
    = None,
    artwork: Annotated[str | None, typer.Option("--artwork", help="Cover image.")] = None,
    artwork_size: Annotated[str | None, typer.Option("--artwork-size", help="Smallest side "
                            "in pixels.")] = None,
    track: Annotated[list[str] | None, typer.Option("--track", help="SONG=ISRC (replaces "
                     "the track list).")] = None,
    delivery: DeliveriesOpt = None,
    database: DbOpt = None, as_json: JsonOpt = False,
) -> None:
    """Change a release."""
    r = _svc().edit_release(_db(database), title, artist=artist, upc=upc, release_date=date,
                            distributor=distributor, platform=platform, artwork=artwork,
                            artwork_min_px=artwork_size, tracks=track,
                            deliveries=delivery or [])
    _show(r, as_json, ["changed " + _release_lines(r)[0], *_release_lines(r)[1:]])


@release_app.command("list")
def release_list(database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List releases."""
    _list(_svc().list_releases(_db(database)), as_json, lambda r: _release_lines(r)[0])


@release_app.command("show")
def release_show(title: Annotated[str, typer.Argument(help="Release title.")],
                 database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Show a release."""
    r = _svc().show_release(_db(database), title)
    _show(r, as_json, _release_lines(r))


@release_app.command("check")
def release_check(title: Annotated[str, typer.Argument(help="Release title.")],
                  database: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The ready checklist: exit 0 when ready, 1 when not."""
    c = _svc().check_release(_db(database), title)
    _show(c, as_json, [f"{c.release}: {'READY' if c.ready else 'NOT READY'}"] +
          [f"  [{'x' if i.ok else ' '}] {i.name}: {i.detail}" for i in c.items])
    if not c.ready:
        raise typer.Exit(1)


@release_app.command("export")
def release_export(
    title: Annotated[str, typer.Argument(help="Release title.")],
    files: Annotated[list[Path], typer.Argument(help="Files to write: .json, .csv and/or "
                     ".xml (DDEX ERN 4-style).")],
    database: DbOpt = None,
) -> None:
    """Write release metadata as JSON, CSV and/or DDEX XML."""
    js, csv, xml = _by_suffix(files, (".json", ".csv", ".xml"))
    _svc().export_release(_db(database), title, json=js, csv=csv, ddex=xml)
    for f in files:
        typer.echo(f"wrote {f}")


@release_app.command("remove")
def release_remove(title: Annotated[str, typer.Argument(help="Release title.")],
                   database: DbOpt = None) -> None:
    """Remove a release."""
    _svc().remove_release(_db(database), title)
    typer.echo(f"removed release {title}")


# --- backup ------------------------------------------------------------------------------


@app.command("backup")
def ledger_backup(file: Annotated[Path, typer.Argument(help="The JSON file to write.")],
                  database: DbOpt = None) -> None:
    """Write every ledger row to FILE."""
    counts = _svc().backup_ledger(_db(database), file)
    typer.echo(f"{file}: {sum(counts.values())} row(s) in {len(counts)} table(s)")


@app.command("restore")
def ledger_restore(
    file: Annotated[Path, typer.Argument(help="A file written by `ledger backup`.")],
    force: Annotated[bool, typer.Option("--force", help="Replace the rows of a ledger "
                     "that is not empty.")] = False,
    database: DbOpt = None,
) -> None:
    """Load a backup into an empty ledger (or over one with --force)."""
    counts = _svc().restore_ledger(_db(database), file, force=force)
    typer.echo(f"restored {sum(counts.values())} row(s) from {file}")


def register(root: typer.Typer) -> None:
    """Add the ``ledger`` group to the ``mixdown`` command."""
    root.add_typer(app, name="ledger")
