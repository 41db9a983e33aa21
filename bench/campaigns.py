"""Campaign sending from one worker against the sink's own acceptance rate.

    python -m bench.campaigns [--people 10000] [--connections 8] [--rounds 3] [--crash]
                              [--no-pipelining]

The sink (bench/smtp_sink.py, aiosmtpd) runs in a process of its own on loopback
and accepts every message as fast as it can.

- baseline: the sink's acceptance rate for pre-built messages: the same number of
  messages, built beforehand (same builder, same sizes), sent by plain smtplib over
  the same number of connections, one thread each, MAIL/RCPT/DATA per message, no
  database. With `--pipelining` (the default) the pair is measured twice: with the
  sink as aiosmtpd comes, and with the sink offering PIPELINING (RFC 2920), which the
  baseline and the worker then both use.
- measured: `CampaignRunner.run` on SQLite, unpaced (`campaign_rate = 0`): write the
  send table from the audience, re-check each batch's consent, open the addresses
  and names through the subjects service (audited per batch), render the templates,
  build the MIME message, re-check the audience and commit each message as handed over
  before its final dot (one check and one commit for the hand-overs that arrive
  together from several connections).
- `--crash`: a second campaign to the same audience, sent by a forked worker that is
  killed with SIGKILL five times, each at a random number of hand-overs while it
  sends, and restarted, then run to the end; the sink counts Message-IDs.

People: N subjects, one in ten without consent, so the audience is 0.9 N.

Each pair (baseline, then the campaign, each database copied afresh from the
populated one) is measured `--rounds` times, the modes alternating; the report
gives the medians and each round's ratio, since one pair on a shared 2-core
machine swings by a tenth or more between runs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from sqlalchemy import func, select
from tests.e2e.servers import free_port

from bench.report import write_section
from ehrlich.campaigns.models import CampaignSend
from ehrlich.campaigns.schemas import CampaignInput
from ehrlich.campaigns.service import CampaignsService
from ehrlich.campaigns.tasks import run_campaign, runner_for
from ehrlich.consent.ledger.bulk import first_grants, record_first_grants
from ehrlich.consent.schemas import ConsentInput
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance, init_instance
from ehrlich.mail.builder import MessageBuilder
from ehrlich.mail.fastbuild import FastBuilder
from ehrlich.mail.interfaces import OutgoingMail, Unsubscribe
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import Settings

WORK = Path(__file__).with_name(".work")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SENDER = "Shop <news@shop.example>"
TEXT = ("Hello {{ name }},\n\nthe autumn collection is in the shop: twelve new coats, "
        "scarves knitted in Saxony and the winter boots you asked for.\n\n"
        "Your preferences: {{ preferences_url }}\n")
HTML = ("<html><body><p>Hello {{ name }},</p><p>the autumn collection is in the shop: "
        "twelve new coats, scarves knitted in Saxony and the winter boots you asked "
        "for.</p><p><a href=\"{{ preferences_url }}\">Your preferences</a></p></body></html>")


def settings_for(root: Path, port: int, connections: int) -> Settings:
    return Settings(data_dir=root / "data", key_file=root / "keys" / "bench.key",
                    base_url="https://shop.example", inprocess_worker=False,
                    smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_from=SENDER,
                    campaign_rate=0, campaign_domain_rate=0, campaign_connections=connections)


def populate(instance: Instance, n: int) -> int:
    with instance.db.write() as session:  # a campaign's purpose is one of the notice's
        instance.notices.publish(session, example_notice_text(), file="notice.yaml",
                                 publisher="bench", now=NOW)
    consented = 0
    for start in range(0, n, 1000):
        rows = range(start, min(n, start + 1000))
        from ehrlich.subjects.schemas import SubjectInput
        with instance.db.write() as session:
            placed = instance.subjects.place_many(session, [
                SubjectInput(email=f"person{i}@example{i % 97}.org", name=f"Person {i}",
                             source="benchmark") for i in rows], actor="bench", now=NOW)
            chosen = [p.subject_id for i, p in zip(rows, placed, strict=True) if i % 10]
            record_first_grants(session, instance.audit, first_grants(ConsentInput(
                subject_id="template", purpose="newsletter", channel="email",
                action="granted", method="admin", notice_version=1, notice_hash="sha256:bench",
                text_shown="Yes, the newsletter by email.", language="en"),
                [(sid, {}) for sid in chosen], actor="bench", now=NOW), now=NOW)
            consented += len(chosen)
    return consented


def prepare(root: Path, n: int, port: int, connections: int) -> tuple[Settings, int]:
    settings = settings_for(root, port, connections)
    marker = root / "ready.json"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        init_instance(settings, now=NOW)
        instance = open_instance(settings)
        try:
            consented = populate(instance, n)
        finally:
            instance.close()
        shutil.copy2(settings.data_dir / "ehrlich.db", root / "populated.db")
        marker.write_text(json.dumps({"consented": consented}))
    else:  # each run starts from the populated database, without earlier campaigns
        shutil.copy2(root / "populated.db", settings.data_dir / "ehrlich.db")
        for suffix in ("-wal", "-shm"):
            (settings.data_dir / f"ehrlich.db{suffix}").unlink(missing_ok=True)
    return settings, int(json.loads(marker.read_text())["consented"])


class SinkProcess:
    def __init__(self, port: int, result: Path, *, pipelining: bool = False) -> None:
        self.result = result
        self.proc = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port),
                                      str(result), *(["--pipelining"] if pipelining else [])],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def stop(self) -> dict[str, object]:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        found: dict[str, object] = json.loads(self.result.read_text())
        return found


def _send_pipelined(client: smtplib.SMTP, mail_from: str, to: str, raw: bytes) -> None:
    """One message as a PIPELINING client sends it: MAIL, RCPT and DATA in one write, the
    message and its dot in the next (two round trips instead of four)."""
    client.send(f"MAIL FROM:<{mail_from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n")
    codes = [client.getreply()[0] for _ in range(3)]
    assert codes == [250, 250, 354], codes
    body = re.sub(rb"(?m)^\.", b"..", raw)
    client.send(body + (b"" if body.endswith(b"\r\n") else b"\r\n") + b".\r\n")
    code, reply = client.getreply()
    assert code == 250, reply


def baseline(port: int, count: int, connections: int, *, pipelining: bool = False) -> float:
    """Pre-built messages through plain smtplib: the sink's own acceptance rate (with
    `pipelining`, MAIL, RCPT and DATA sent together, as the worker then does)."""
    builder = MessageBuilder(SENDER)
    fast = FastBuilder(builder)
    messages = []
    for i in range(count):
        mail = OutgoingMail(to=f"person{i}@example{i % 97}.org", subject=f"Autumn news for "
                            f"Person {i}", text=TEXT.replace("{{ name }}", f"Person {i}"),
                            html=HTML.replace("{{ name }}", f"Person {i}"),
                            category="marketing", unsubscribe=Unsubscribe(
                                f"https://shop.example/unsubscribe/{'x' * 120}{i}"))
        messages.append((mail.to, fast.build_bytes(mail, now=NOW, message_id=f"<b{i}@x>")))
    slices = [messages[k::connections] for k in range(connections)]

    def send(part: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", port) as client:
            client.ehlo()
            assert client.has_extn("pipelining") == pipelining
            for to, raw in part:
                if pipelining:
                    _send_pipelined(client, builder.envelope_from, to, raw)
                else:
                    client.sendmail(builder.envelope_from, [to], raw)

    threads = [threading.Thread(target=send, args=(part,)) for part in slices]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count / (time.perf_counter() - started)


def new_campaign(instance: Instance, name: str) -> str:
    campaigns = instance.service(CampaignsService)
    campaign = campaigns.create(instance.db, CampaignInput(
        name=name, purpose="newsletter", subject="Autumn news for {{ name }}",
        text_body=TEXT, html_body=HTML), actor="bench", now=NOW).id
    campaigns.act(instance.db, campaign, "send", actor="bench", now=datetime.now(UTC))
    return campaign


def _work(settings: Settings, campaign_id: str) -> None:
    code = 1
    try:
        instance = open_instance(settings)
        try:
            run_campaign(instance, campaign_id)
            code = 0
        finally:
            instance.close()
    finally:
        os._exit(code)


def handed(instance: Instance, campaign_id: str) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).where(
            CampaignSend.campaign_id == campaign_id,
            CampaignSend.state.in_(("handed", "sent")))).scalar_one())


def crash_run(instance: Instance, settings: Settings, kills: int, audience: int
              ) -> tuple[str, list[int]]:
    """Kill a forked worker `kills` times, each at a random number of hand-overs within
    the next share of what is left (so every kill lands while it sends), then run to the
    end."""
    campaign = new_campaign(instance, "crash")
    chance = random.Random()
    at_kill = []
    fork = multiprocessing.get_context("fork")
    for k in range(kills):
        before = handed(instance, campaign)
        target = before + chance.randint(1, max(1, (audience - before) // (kills - k + 1)))
        proc = fork.Process(target=_work, args=(settings, campaign))
        proc.start()
        while handed(instance, campaign) < target and proc.is_alive():
            time.sleep(0.005)
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
        proc.join()
        at_kill.append(handed(instance, campaign))
    proc = fork.Process(target=_work, args=(settings, campaign))
    proc.start()
    proc.join()
    return campaign, at_kill


def _missing(count: int, connections: int) -> str:
    window = (f"the window of docs/campaigns.md, at most one per connection and kill "
              f"({connections} × 5 here)")
    if count == 0:
        return f"None was missing: no kill landed in {window}."
    return (f"The {count:,} missing were recorded as handed over when a kill stopped them "
            f"before the final dot: {window}.")


def measure(settings: Settings, port: int, consented: int, connections: int, *,
            piped: bool, root: Path) -> tuple[float, float, dict[str, object], float]:
    """(baseline messages/s, campaign messages/s, what the sink counted, the worker's CPU
    seconds per message), with the sink offering PIPELINING or not (the baseline and the
    worker then use it alike)."""
    mode = "pipelining" if piped else "plain"
    sink = SinkProcess(port, root / f"sink-baseline-{mode}.json", pipelining=piped)
    base_rate = baseline(port, consented, connections, pipelining=piped)
    sink.stop()
    print(f"{mode} baseline: {base_rate:,.0f} messages/s", flush=True)
    sink = SinkProcess(port, root / f"sink-campaign-{mode}.json", pipelining=piped)
    instance = open_instance(settings)
    try:
        campaign = new_campaign(instance, f"bench {mode}")
        started, cpu = time.perf_counter(), time.process_time()
        outcome = runner_for(instance).run(campaign)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        instance.close()
    got = sink.stop()
    assert outcome is not None, "the campaign was not sending"
    assert outcome.status == "sent", outcome
    rate = consented / seconds
    print(f"{mode} campaign: {rate:,.0f} messages/s ({seconds:.1f} s, "
          f"{cpu / consented * 1e6:,.0f} µs CPU a message); sink: {got}", flush=True)
    return base_rate, rate, got, cpu / consented


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=16,
                        help="SMTP connections of the worker and the baseline alike (the "
                             "worker's `campaign_connections`; the product's default is 4)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--crash", action="store_true")
    parser.add_argument("--pipelining", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure both with the sink offering PIPELINING (RFC "
                             "2920), used by the baseline and the worker alike (default)")
    args = parser.parse_args()
    if args.rounds < 1 or args.connections < 1:
        parser.error("--rounds and --connections must be at least 1")
    port = free_port()
    load = os.getloadavg()[0]
    root = WORK / f"campaigns-{args.people}"
    settings, consented = prepare(root, args.people, port, args.connections)
    print(f"{args.people:,} people, {consented:,} consented; load {load:.1f}", flush=True)

    modes = [False, True] if args.pipelining else [False]
    runs: dict[bool, list[tuple[float, float, dict[str, object], float]]] = {
        piped: [] for piped in modes}
    for _ in range(args.rounds):
        for piped in modes:
            settings, _ = prepare(root, args.people, port, args.connections)
            runs[piped].append(measure(settings, port, consented, args.connections,
                                       piped=piped, root=root))
    got = runs[False][0][2]
    exact = all(g["received"] == consented and g["duplicates"] == 0
                for pairs in runs.values() for _, _, g, _ in pairs)
    ratios = {piped: median(r / b for b, r, _, _ in pairs) for piped, pairs in runs.items()}
    best = max(median(r for _, r, _, _ in pairs) for pairs in runs.values())
    rows = "".join(
        f"| sink, pre-built messages (baseline){', PIPELINING' if piped else ''} | "
        f"{consented:,} | {median(b for b, _, _, _ in pairs):,.0f} | 100% | |\n"
        f"| campaign from one worker{', PIPELINING' if piped else ''} | {consented:,} | "
        f"{median(r for _, r, _, _ in pairs):,.0f} | {ratios[piped]:.0%} "
        f"({', '.join(f'{r / b:.0%}' for b, r, _, _ in pairs)}) | "
        f"{median(c for _, _, _, c in pairs) * 1e6:,.0f} µs |\n"
        for piped, pairs in runs.items())

    crash_line = ""
    if args.crash:
        sink = SinkProcess(port, root / "sink-crash.json")
        instance = open_instance(settings)
        try:
            _, at_kill = crash_run(instance, settings, 5, consented)
        finally:
            instance.close()
        crashed = sink.stop()
        print(f"crash: handed over at each kill {at_kill}; sink {crashed}", flush=True)
        crash_line = (
            f"\nCrash run: the same audience ({consented:,}), a forked worker killed with "
            f"SIGKILL at a random number of hand-overs five times (after "
            f"{', '.join(f'{k:,}' for k in at_kill)}"
            f" messages were recorded as handed over), then run to the end: the sink got "
            f"{crashed['received']:,} messages, {crashed['distinct_ids']:,} distinct "
            f"Message-IDs, {crashed['duplicates']} duplicates, {crashed['recipients']:,} "
            f"recipients each with {crashed['recipient_counts']} message(s). "
            f"{_missing(consented - int(str(crashed['received'])), args.connections)}\n")

    write_section("campaigns", f"""## Campaigns: one worker's sending (`python -m bench.campaigns`)

Sink: aiosmtpd on loopback in its own process, accepting every message. Baseline: the
sink's own acceptance rate for pre-built messages (same shape and sizes, smtplib,
{args.connections} connections). Measured: one worker (`CampaignRunner`,
SQLite, unpaced, {args.connections} connections) sending a campaign to {consented:,}
consented people of {args.people:,}: audience written to the send table, consent
re-checked per batch and per message, addresses opened by the subjects service,
templates rendered, MIME built, each message committed as handed over before its final
dot (the hand-overs that arrive together from several connections share one audience
check and one commit). Rows marked PIPELINING: the sink offers it (RFC 2920) and the
baseline and the worker both send MAIL, RCPT and DATA in one write; the other rows:
the sink as aiosmtpd comes, four round trips per message for both.

Each row: the median of {args.rounds} rounds, the modes alternating, each round a
baseline and then the campaign on a fresh copy of the database; in brackets each
round's ratio; CPU: the worker process's (all threads, user and system) per message.

| what | messages | messages/s | vs baseline (each round) | CPU a message |
|---|---:|---:|---:|---:|
{rows}
Aim: >= 50% of the baseline: {"; ".join(
    f"{'with' if piped else 'without'} PIPELINING "
    f"{'reached' if ratio >= 0.5 else 'not reached'} ({ratio:.0%})"
    for piped, ratio in ratios.items())}.
Aim: >= 1,000 messages/s where the sink allows it: {"reached" if best >= 1000 else
f"not reached (best {best:,.0f}/s)"}. The worker runs in one Python process whose
threads share the interpreter lock (the baseline's client does nothing else); the
audience check before each final dot is one query, and the hand-over one commit, per
group of connections that hand over together. Reached exactly the consented people
once each in every run: {"yes" if exact else "NO"} ({got["received"]:,} received,
{got["duplicates"]} duplicates without PIPELINING).
{crash_line}
1-minute load average when the run started: {load:.1f} on 2 cores shared with other
work (the sink, the worker and other processes compete; compare rows of the same run).
""")


if __name__ == "__main__":
    main()
