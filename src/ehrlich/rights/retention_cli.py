"""`ehrlich retention run [--dry-run] [--subjects]`: the declared retention periods, now.

The dry run lists who would go and why, by purpose; `--subjects` adds the subject
references (ids), never a name or an address. Without `--dry-run` the same plan is
carried out (the daily job does the same at 03:41 UTC). Installed by the rights domain.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ehrlich.errors import InvalidInput
from ehrlich.registry import command_instance, command_line
from ehrlich.rights.retention import REASON_LABELS, RetentionRun, RetentionService

app = typer.Typer(help="Retention: erase people no declared purpose keeps any longer.",
                  no_args_is_help=True)
console = Console(soft_wrap=True, highlight=False)
ACTOR = "cli"


def _at(text: str | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput.one("at", "write a time as YYYY-MM-DDTHH:MM (UTC)") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _print(done: RetentionRun, *, subjects: bool, command: str) -> None:
    plan = done.plan
    if plan.notice is None:
        console.print("No notice is published: no retention is declared, nobody goes. "
                      f"Publish one with `{command} notice publish notice.yaml`.")
        return
    verb = "would go" if done.dry_run else "gone"
    table = Table("purpose", "reason", verb, title=(
        f"Retention {'dry run' if done.dry_run else 'run'} at {plan.at:%Y-%m-%d %H:%M} UTC, "
        f"notice version {plan.notice}: {len(plan.people)} people"
        f"{', consent proof of ' + str(len(plan.proofs)) if plan.proofs else ''}"))
    for purpose, reason, count in plan.counts():
        table.add_row(purpose, REASON_LABELS[reason], str(count))
    console.print(table)
    if not done.dry_run:
        console.print(f"erased: {len(done.erased)}; consent events deleted: {done.proof_events}")
    if subjects:
        for person in plan.people:
            reasons = ", ".join(f"{e.purpose}: {e.reason} since {e.until:%Y-%m-%d}"
                                for e in person.endings)
            console.print(f"{person.subject_id}  {reasons}")
        for subject_id in plan.proofs:
            console.print(f"{subject_id}  -: proof")


@app.command("run")
def run(ctx: typer.Context,
        dry_run: Annotated[bool, typer.Option("--dry-run", help=(
            "List who would go and why, by purpose; change nothing"))] = False,
        subjects: Annotated[bool, typer.Option("--subjects", help=(
            "Also list the subject references (ids) and each one's reasons"))] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON")] = False,
        at: Annotated[str | None, typer.Option(help=(
            "Plan for this time instead of now (dry run only), e.g. 2027-01-01T00:00"))] = None,
        ) -> None:
    """Erase the people no purpose of the published notice keeps any longer.

    Example: ehrlich retention run --dry-run --subjects
    """
    if at and not dry_run:
        raise InvalidInput.one("at", "a run erases as of now; --at is for --dry-run only")
    when = _at(at)
    with command_instance(ctx) as instance:
        done = instance.service(RetentionService).run(instance.db, now=when, actor=ACTOR,
                                                     dry_run=dry_run)
        command = command_line(ctx, instance.settings)
    if as_json:
        plan = done.plan
        typer.echo(json.dumps({
            "at": plan.at.isoformat(), "dry_run": done.dry_run, "notice_version": plan.notice,
            "by_purpose": [{"purpose": p, "reason": r, "people": n}
                           for p, r, n in plan.counts()],
            "subjects": [{"id": d.subject_id, "endings": [
                {"purpose": e.purpose, "reason": e.reason, "until": e.until.isoformat()}
                for e in d.endings]} for d in plan.people] if subjects else None,
            "proofs": plan.proofs if subjects else len(plan.proofs),
            "erased": len(done.erased)}, indent=2))
        return
    _print(done, subjects=subjects, command=command)
