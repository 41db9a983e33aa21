"""`python -m bench.serve_memory [--baseline-src DIR]`: a web process's resident memory.

A fresh instance made by `ehrlich init` in a temporary directory (SQLite, the defaults:
the job worker runs inside `serve`), with the example notice published, one person and a
`consent:read` token. One `ehrlich serve` process is started, its resident memory read
once it answers (`/proc/PID/status` VmRSS, and from `/proc/PID/smaps_rollup` how much of
it is anonymous memory, the rest being mapped files: code and shared libraries), then
after a warm-up of typical requests (the signup page, the consent check API with the
token, the person's preferences page, the console's sign-in page; each over 8 keep-alive
connections for 2 s), with the peak (VmHWM).

With `--baseline-src DIR` (a `src` folder of another revision, e.g. made with
`git archive REV src | tar -x -C /tmp/base`), the same instance is served by that code
too, alternating with this tree's `src` round by round, so both are measured under the
same machine load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench import loadgen
from bench.population import NOW
from bench.processes import ehrlich_env, free_port, memory_mib, start, stop, wait_healthy
from bench.report import write_section
from ehrlich.auth.api_tokens import create_api_token
from ehrlich.consent.signup.links import preferences_token
from ehrlich.domains import open_instance
from ehrlich.notices.example import example_notice_text
from ehrlich.settings import load_settings
from ehrlich.subjects.schemas import SubjectInput

SRC = Path(__file__).resolve().parent.parent / "src"
WARM_CONNECTIONS = 8
WARM_SECONDS = 2.0
# Mail set up (the signup form is closed without it); nothing is sent during the run.
MAIL = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": "2525",
        "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": "news@example.org"}


@dataclass
class Figures:
    label: str
    src: Path
    start: list[float] = field(default_factory=list)
    start_anon: list[float] = field(default_factory=list)
    warm: list[float] = field(default_factory=list)
    warm_anon: list[float] = field(default_factory=list)
    peak: list[float] = field(default_factory=list)


def smaps_anonymous_mib(pid: int) -> float:
    """The anonymous part of a process's resident memory (heap, stacks), in MiB."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Anonymous:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_instance(root: Path) -> tuple[Path, str, str]:
    """`ehrlich init` in `root`, then the notice, one person and a token: (config,
    consent:read token, the person's preferences token)."""
    subprocess.run([sys.executable, "-m", "ehrlich", "init", "--data-dir", str(root / "data"),
                    "--key-file", str(root / "keys" / "ehrlich.key")],
                   env={k: v for k, v in os.environ.items() if not k.startswith("EHRLICH_")},
                   cwd=root, check=True,
                   stdout=subprocess.DEVNULL)
    config = root / "data" / "ehrlich.toml"
    instance = open_instance(load_settings(config))
    try:
        with instance.db.write() as session:
            instance.notices.publish(session, example_notice_text(), file="notice.yaml",
                                     publisher="bench", now=NOW)
            person = instance.subjects.create(
                session, SubjectInput(email="ada@example.org", name="Ada", source="bench"),
                actor="bench", now=NOW)
            token, _ = create_api_token(session, name="bench", scopes=["consent:read"],
                                        now=NOW)
        prefs = preferences_token(instance.keyring, subject_id=person.subject.id, now=NOW)
    finally:
        instance.close()
    return config, token, prefs


def warm_up_requests(token: str, prefs: str) -> list[loadgen.Request]:
    auth = {"Authorization": f"Bearer {token}"}
    pages = [loadgen.get("/signup"),
             loadgen.get("/api/v1/consent/check", {"email": "ada@example.org",
                                                   "purpose": "newsletter"}, auth),
             loadgen.get(f"/preferences/{prefs}"),
             loadgen.get("/admin/login")]
    return [lambda _s, _n, page=page: page for page in pages]


def measure(figures: Figures, config: Path, requests: list[loadgen.Request],
            work: Path) -> None:
    port = free_port()
    log = work / f"serve-{figures.label}.log"
    env = ehrlich_env(config, {"PYTHONPATH": str(figures.src), **MAIL})
    process = start(["serve", "--host", "127.0.0.1", "--port", str(port)], env, log)
    try:
        wait_healthy(port, process, log)
        time.sleep(2)  # let the start settle (the in-process worker's first poll)
        figures.start.append(memory_mib(process.pid)[0])
        figures.start_anon.append(smaps_anonymous_mib(process.pid))
        for request in requests:
            loadgen.run([("127.0.0.1", port)], request, connections=WARM_CONNECTIONS,
                        seconds=WARM_SECONDS)
        time.sleep(1)
        now, peak = memory_mib(process.pid)
        figures.warm.append(now)
        figures.warm_anon.append(smaps_anonymous_mib(process.pid))
        figures.peak.append(peak)
    finally:
        stop([process])


def row(f: Figures) -> str:
    med = statistics.median
    return (f"| {f.label} | {med(f.start):.0f} MiB ({med(f.start_anon):.0f} anonymous) | "
            f"{med(f.warm):.0f} MiB ({med(f.warm_anon):.0f} anonymous) | "
            f"{med(f.peak):.0f} MiB |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="a `src` folder of the revision to compare with")
    parser.add_argument("--baseline-label", default="before")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    trees = [Figures("this tree", SRC)]
    if args.baseline_src:
        trees.insert(0, Figures(args.baseline_label, args.baseline_src.resolve()))
    with tempfile.TemporaryDirectory(prefix="ehrlich-rss-") as tmp:
        work = Path(tmp)
        config, token, prefs = make_instance(work)
        requests = warm_up_requests(token, prefs)
        for _ in range(args.rounds):
            for figures in trees:
                measure(figures, config, requests, work)
                print(row(figures), flush=True)
    load_end = os.getloadavg()[0]
    table = "\n".join(row(f) for f in trees)
    aim = 100e6 / 2**20
    warm = statistics.median(trees[-1].warm)
    verdict = "met" if warm <= aim else f"missed, {warm - aim:.0f} MiB over after warm-up"
    write_section("serve_memory", (
        "## Resident memory of one `ehrlich serve` process\n\n"
        "A fresh SQLite instance from `ehrlich init` (defaults: the job worker runs in the "
        "process), its notice published, one person. Start: once `/healthz` answers, plus "
        f"2 s. Warm-up: the signup page, `GET /api/v1/consent/check` with a bearer token, "
        f"the person's preferences page and the console's sign-in page, each over "
        f"{WARM_CONNECTIONS} keep-alive connections for {WARM_SECONDS:.0f} s. VmRSS, "
        "median of "
        f"{args.rounds} alternating rounds; anonymous: heap and stacks "
        "(`smaps_rollup`), the rest is mapped code and libraries.\n\n"
        "| code | after start | after warm-up | peak (VmHWM) |\n|---|---|---|---|\n"
        f"{table}\n\n"
        f"Load average {load_start:.1f} at the start, {load_end:.1f} at the end. "
        f"Aim (issue 15): a web process's RSS <= 100 MB ({aim:.1f} MiB): {verdict}."))


if __name__ == "__main__":
    main()
