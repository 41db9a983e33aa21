"""`ehrlich notice lint|publish|show|versions|ropa`."""

from __future__ import annotations

import getpass
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from ehrlich.cli.context import now, opened_instance
from ehrlich.notices import ropa as records
from ehrlich.notices.diff import render_yaml
from ehrlich.notices.errors import NoticeInvalid
from ehrlich.notices.schemas import Finding
from ehrlich.notices.service import PublishedNotice, canonical_json, check_notice

# Long lines (hashes, diffs, file:line:column findings) must not be wrapped.
console = Console(soft_wrap=True, highlight=False)
err_console = Console(stderr=True, soft_wrap=True, highlight=False)

app = typer.Typer(help="The privacy notice: lint, publish, show, records of processing.",
                  no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="The notice file (YAML)", exists=True,
                                         dir_okay=False, readable=True)]


class LintFormat(StrEnum):
    text = "text"
    json = "json"


class ShowFormat(StrEnum):
    yaml = "yaml"
    json = "json"


class RopaFormat(StrEnum):
    md = "md"
    csv = "csv"


class Lang(StrEnum):
    en = "en"
    de = "de"


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        err_console.print(f"[red]{escape(str(file))}: not UTF-8 text (byte {exc.start}); "
                          "save the notice as UTF-8[/red]")
        raise typer.Exit(1) from None


def _print_findings(findings: list[Finding]) -> None:
    for finding in findings:
        colour = "red" if finding.severity == "error" else "yellow"
        err_console.print(f"[{colour}]{escape(finding.as_text())}[/{colour}]")


@app.command("lint")
def lint(file: FileArg,
         format: Annotated[LintFormat, typer.Option(help="Output format")] = LintFormat.text,
         ) -> None:
    """Check a notice file: schema, wording, structure. Exit 1 on any error.

    Example: ehrlich notice lint notice.yaml --format json
    """
    try:
        _, findings = check_notice(_read(file), file=str(file))
    except NoticeInvalid as exc:
        findings = exc.findings
    errors = sum(f.severity == "error" for f in findings)
    if format is LintFormat.json:
        console.print_json(json.dumps({"file": str(file), "errors": errors,
                                       "warnings": len(findings) - errors,
                                       "findings": [f.as_dict() for f in findings]}))
    else:
        _print_findings(findings)
        console.print(f"{file}: {errors} error(s), {len(findings) - errors} warning(s)",
                      highlight=False, soft_wrap=True)
    if errors:
        raise typer.Exit(1)


@app.command("publish")
def publish(ctx: typer.Context, file: FileArg,
            publisher: Annotated[str | None, typer.Option(
                help="Who publishes (default: the login name)")] = None) -> None:
    """Publish a notice as a new immutable version; refuse it on lint errors.

    Consents for purposes that widened are marked for renewal.
    Example: ehrlich notice publish notice.yaml --publisher "Jana Wolff"
    """
    text = _read(file)
    with opened_instance(ctx) as instance:
        try:
            with instance.db.write() as session:
                outcome = instance.notices.publish(session, text, file=str(file),
                                                   publisher=publisher or getpass.getuser(),
                                                   now=now())
        except NoticeInvalid as exc:
            _print_findings(exc.findings)
            err_console.print("[red]Nothing was published:[/red] fix the errors above first.")
            raise typer.Exit(1) from None
    _print_findings(outcome.warnings)
    info = outcome.version
    if not outcome.created:
        console.print(f"Unchanged: the file has the same content as version {info.number} "
                      f"(SHA-256 {info.sha256}). No new version.")
        return
    for line in outcome.diff:
        colour = "green" if line.startswith("+") else "red" if line.startswith("-") else ""
        console.print(f"[{colour}]{escape(line)}[/{colour}]" if colour else escape(line),
                      highlight=False, soft_wrap=True)
    console.print(f"[green]Published version {info.number}[/green] "
                  f"(SHA-256 {info.sha256}) by {escape(info.publisher)}.")
    for widening in outcome.widened:
        console.print(f"Purpose [bold]{widening.purpose_id}[/bold] widened: "
                      f"{escape('; '.join(widening.reasons))}")
    if outcome.widened:
        console.print(f"{outcome.renewals} people's consents are marked as needing renewal.")


def _published(ctx: typer.Context, version: int | None) -> PublishedNotice:
    """The given published version, or the current one."""
    with opened_instance(ctx) as instance, instance.db.read() as session:
        if version is None:
            return instance.notices.current(session)
        return instance.notices.version(session, version)


@app.command("show")
def show(ctx: typer.Context,
         version: Annotated[int | None, typer.Option(help="Version number (default: current)")]
         = None,
         format: Annotated[ShowFormat, typer.Option(help="Output format")] = ShowFormat.yaml,
         ) -> None:
    """Print a published notice version with its number, hash and publisher.

    Example: ehrlich notice show --version 2
    """
    published = _published(ctx, version)
    info = published.info
    if format is ShowFormat.json:
        console.print_json(json.dumps({
            "version": info.number, "sha256": info.sha256,
            "published_at": info.published_at.isoformat(), "publisher": info.publisher,
            "notice": json.loads(canonical_json(published.notice))}))
        return
    console.print(f"# version {info.number}, published {info.published_at:%Y-%m-%d %H:%M} UTC "
                  f"by {escape(info.publisher)}\n# SHA-256 {info.sha256}")
    console.print(escape(render_yaml(published.notice)))


@app.command("versions")
def versions(ctx: typer.Context) -> None:
    """List every published version.

    Example: ehrlich notice versions
    """
    with opened_instance(ctx) as instance, instance.db.read() as session:
        infos = instance.notices.versions(session)
    for info in infos:  # tab-separated, for scripts
        typer.echo(f"{info.number}\t{info.published_at:%Y-%m-%d %H:%M}\t{info.sha256}\t"
                   f"{info.publisher}")


@app.command("ropa")
def ropa(ctx: typer.Context,
         format: Annotated[RopaFormat, typer.Option(help="Markdown or CSV")] = RopaFormat.md,
         lang: Annotated[Lang, typer.Option(help="Language of the texts")] = Lang.en,
         version: Annotated[int | None, typer.Option(help="Version (default: current)")] = None,
         output: Annotated[Path | None, typer.Option(help="Write to this file")] = None,
         ) -> None:
    """Records of processing activities (GDPR Art. 30) from the published notice.

    Example: ehrlich notice ropa --format csv --output ropa.csv
    """
    published = _published(ctx, version)
    render = records.as_csv if format is RopaFormat.csv else records.as_markdown
    text = render(published, lang.value)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Records of processing written to {output}.")
