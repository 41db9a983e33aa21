"""`ehrlich breach open|list|show|update|scope|close`: the breach register from the command
line (GDPR Art. 33/34).

Whoever runs these commands has the key file and the database; each change is
audited as `cli`. Times are UTC, written as 2026-11-30T09:15 (or a date alone).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ehrlich.breach.draft import notices_of
from ehrlich.breach.schemas import TELL_PEOPLE, BreachChanges, BreachView, NewBreach, Scope, parse
from ehrlich.breach.service import BreachService
from ehrlich.errors import InvalidInput
from ehrlich.registry import command_instance

app = typer.Typer(help="The breach register: suspected breaches, the 72-hour clock to the "
                  "supervisory authority, and the notice to the people affected.",
                  no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)
ACTOR = "cli"
Time = Annotated[str | None, typer.Option(help="UTC, e.g. 2026-11-30T09:15")]


def _now() -> datetime:
    return datetime.now(UTC)


def _time(name: str, text: str | None) -> datetime | None:
    if text is None or not text.strip():
        return None
    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput.one(name, "write a time as YYYY-MM-DDTHH:MM (UTC)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _categories(text: str | None) -> list[str] | None:
    return None if text is None else [c.strip() for c in text.split(",") if c.strip()]


def _clock(b: BreachView, now: datetime) -> str:
    if b.authority_notified_at is not None:
        return f"authority notified {b.authority_notified_at:%Y-%m-%d %H:%M} UTC"
    if b.authority_not_notified:
        return "authority not notified (reason recorded)"
    hours = b.hours_left(now)
    return (f"{hours} h left to notify the authority (by {b.deadline:%Y-%m-%d %H:%M} UTC)"
            if hours >= 0 else f"OVERDUE by {-hours} h: the authority was due "
            f"{b.deadline:%Y-%m-%d %H:%M} UTC")


def _print(b: BreachView, now: datetime) -> None:
    how = "counted from the audit chain" if b.people_counted is not None else "estimated"
    people = "" if b.people is None else f"{b.people} ({how})"
    scope = (f"{b.scope_actor}, {b.scope_start:%Y-%m-%d %H:%M} to {b.scope_end:%Y-%m-%d %H:%M} "
             f"UTC{f'; plus {b.batch_rows} rows in exported files' if b.batch_rows else ''}"
             if b.scope_actor and b.scope_start and b.scope_end else "")
    for label, value in (
            ("id", b.id), ("title", b.title), ("status", b.status),
            ("noticed", f"{b.noticed_at:%Y-%m-%d %H:%M} UTC"), ("clock", _clock(b, now)),
            ("what happened", b.what_happened), ("data categories", ", ".join(b.data_categories)),
            ("people affected", people), ("scope", scope), ("consequences", b.consequences),
            ("measures", b.measures), ("authority reference", b.authority_reference or ""),
            ("not notified because", b.authority_not_notified or ""),
            ("tell the people", b.tell_people), ("because", b.tell_people_reason),
            ("people told", f"{b.people_notified_at:%Y-%m-%d %H:%M} UTC"
             if b.people_notified_at else ""),
            ("opened by", b.opened_by), ("closed", f"{b.closed_at:%Y-%m-%d %H:%M} UTC by "
                                         f"{b.closed_by}" if b.closed_at else "")):
        if value:
            console.print(f"{label + ':':22} {value}")


@app.command("open")
def open_breach(
    ctx: typer.Context,
    title: Annotated[str, typer.Option(help="What happened, in a line")],
    noticed_at: Time = None,
    what: Annotated[str, typer.Option(help="More detail (no personal data)")] = "",
    categories: Annotated[str | None, typer.Option(
        help="Data categories of the notice, comma-separated, e.g. email,name")] = None,
    estimate: Annotated[int | None, typer.Option(help="People affected, estimated")] = None,
) -> None:
    """Record a suspected breach; the 72-hour clock starts at --noticed-at (default now).

    Example: ehrlich breach open --title "Support laptop stolen" --categories email,name
    """
    now = _now()
    data = parse(NewBreach, title=title, what_happened=what,
                 noticed_at=_time("noticed_at", noticed_at) or now,
                 data_categories=_categories(categories) or [], people_estimate=estimate)
    with command_instance(ctx) as instance:
        made = instance.service(BreachService).open(instance.db, data, actor=ACTOR, now=now)
    _print(made, now)


@app.command("list")
def list_breaches(ctx: typer.Context, status: Annotated[str, typer.Option(
        help="open, closed or all")] = "all") -> None:
    """List breaches, the newest noticed first, with the 72-hour clock.

    Example: ehrlich breach list --status open
    """
    now = _now()
    with command_instance(ctx) as instance:
        rows = instance.service(BreachService).listing(
            instance.db, status=status if status in ("open", "closed") else None)
    table = Table("noticed (UTC)", "title", "people", "status", "clock",
                  title=f"{len(rows)} breach(es)")
    table.add_column("id", no_wrap=True)
    for b in rows:
        table.add_row(f"{b.noticed_at:%Y-%m-%d %H:%M}", b.title,
                      "" if b.people is None else str(b.people), b.status,
                      _clock(b, now) if b.status == "open" else "", b.id)
    console.print(table)


@app.command("show")
def show(ctx: typer.Context, breach_id: str,
         notice: Annotated[bool, typer.Option(help="Also print the notice to the people "
                                              "(English and German)")] = False) -> None:
    """Show one breach.

    Example: ehrlich breach show 0193… --notice
    """
    now = _now()
    with command_instance(ctx) as instance:
        service = instance.service(BreachService)
        found = service.get(instance.db, breach_id)
        with instance.db.read() as session:
            texts = notices_of(found, service.notice(session)) if notice else {}
    _print(found, now)
    for lang, text in texts.items():
        console.print(f"\n--- notice to the people ({lang}) ---\n{text}")


@app.command("scope")
def scope(ctx: typer.Context, breach_id: str,
          actor: Annotated[str, typer.Option(help=(
              "Whose reads: token:ID (an API token, see `ehrlich token list`) or staff:ID"))],
          start: Annotated[str, typer.Option(help="Window start, UTC")],
          end: Annotated[str, typer.Option(help="Window end (exclusive), UTC")]) -> None:
    """Count the people ACTOR read from START to END, from the audit chain.

    Example: ehrlich breach scope 0193… --actor token:0193… --start 2026-11-28 --end 2026-11-30
    """
    now = _now()
    data = parse(Scope, actor=actor, start=_time("start", start), end=_time("end", end))
    with command_instance(ctx) as instance:
        found, read = instance.service(BreachService).scope(instance.db, breach_id, data,
                                                             actor=ACTOR, now=now)
    console.print(f"{len(read.subjects)} people read by {read.actor} in {read.entries} audit "
                  f"entries" + (f"; plus {read.batch_rows} rows in exported files"
                                if read.batch_rows else ""))
    _print(found, now)


@app.command("update")
def update(
    ctx: typer.Context, breach_id: str,
    title: Annotated[str | None, typer.Option()] = None,
    what: Annotated[str | None, typer.Option(help="What happened")] = None,
    noticed_at: Time = None,
    categories: Annotated[str | None, typer.Option(help="Data categories, comma-separated")]
    = None,
    estimate: Annotated[int | None, typer.Option(help="People affected, estimated")] = None,
    consequences: Annotated[str | None, typer.Option(help="Likely consequences")] = None,
    measures: Annotated[str | None, typer.Option(help="Measures taken or proposed")] = None,
    authority_notified_at: Time = None,
    authority_reference: Annotated[str | None, typer.Option(
        help="The authority's reference for the report")] = None,
    authority_not_notified: Annotated[str | None, typer.Option(
        help="Why the authority is not notified (no risk likely, Art. 33(1))")] = None,
    tell_people: Annotated[str | None, typer.Option(
        help=f"Must the people be told (Art. 34): {', '.join(TELL_PEOPLE)}")] = None,
    tell_people_reason: Annotated[str | None, typer.Option(help="Why (not)")] = None,
    people_notified_at: Time = None,
    notice_en: Annotated[str | None, typer.Option(help="The notice to the people, English")]
    = None,
    notice_de: Annotated[str | None, typer.Option(help="The notice to the people, German")]
    = None,
) -> None:
    """Change what the options name; the rest stays.

    Example: ehrlich breach update 0193… --authority-notified-at 2026-11-30T10:00
    --authority-reference BlnBDI-2026-17
    """
    given: dict[str, Any] = {
        "title": title, "what_happened": what, "noticed_at": _time("noticed_at", noticed_at),
        "data_categories": _categories(categories), "people_estimate": estimate,
        "consequences": consequences, "measures": measures,
        "authority_notified_at": _time("authority_notified_at", authority_notified_at),
        "authority_reference": authority_reference,
        "authority_not_notified": authority_not_notified, "tell_people": tell_people,
        "tell_people_reason": tell_people_reason,
        "people_notified_at": _time("people_notified_at", people_notified_at),
        "notice_en": notice_en, "notice_de": notice_de}
    changes = parse(BreachChanges, **{k: v for k, v in given.items() if v is not None})
    now = _now()
    with command_instance(ctx) as instance:
        done = instance.service(BreachService).update(instance.db, breach_id, changes,
                                                      actor=ACTOR, now=now)
    _print(done, now)


@app.command("close")
def close(ctx: typer.Context, breach_id: str) -> None:
    """Close a breach once the authority and the people questions are settled.

    Example: ehrlich breach close 0193…
    """
    now = _now()
    with command_instance(ctx) as instance:
        done = instance.service(BreachService).close(instance.db, breach_id, actor=ACTOR,
                                                     now=now)
    _print(done, now)
