"""Instance-wide checks: key file, HTTPS, default secrets, trusted proxies, audit chain,
and whether a worker takes the queued jobs."""

from __future__ import annotations

import stat
from datetime import timedelta
from urllib.parse import urlsplit

from ehrlich.i18n import N_, NP_
from ehrlich.jobs import store as job_store
from ehrlich.posture.schemas import Finding, PostureContext, Status, check

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# A due job waits about a second for a running worker; this long means none is running.
JOBS_STALLED_AFTER = timedelta(minutes=15)
WEAK_SECRETS = {"", "postgres", "password", "ehrlich", "changeme", "secret", "admin", "redis"}


@check("keys.file", N_("Key file is outside the data directory and private"))
def key_file(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    path, data_dir = settings.key_file.absolute(), settings.data_dir.absolute()
    if not path.exists():
        return Finding(Status.FAIL, N_("the key file {path} is missing"),
                       N_("restore it from your key backup and set EHRLICH_KEY_FILE"),
                       {"path": path})
    if data_dir == path.parent or data_dir in path.parents:
        return Finding(Status.FAIL, N_("the key file {path} is inside the data directory, so "
                          "every copy of the data carries its key"),
                       N_("move it elsewhere (e.g. /etc/ehrlich/) and set key_file in "
                          "{data_dir}/ehrlich.toml"), {"path": path, "data_dir": data_dir})
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Finding(Status.FAIL, N_("the key file is readable by others (mode {mode})"),
                       N_("chmod 600 {path}"), {"mode": f"{mode:04o}", "path": path})
    return Finding(Status.PASS, N_("{path} (mode {mode})"), params={"mode": f"{mode:04o}",
                                                               "path": path})


@check("web.https", N_("Served over HTTPS with secure cookies"))
def https(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    url = urlsplit(settings.base_url)
    params = {"base_url": settings.base_url}
    if url.scheme == "https":
        return Finding(Status.PASS, N_("base_url is {base_url}: cookies are __Host- and Secure, "
                          "HSTS is sent"), params=params)
    local = url.hostname in LOOPBACK and settings.host in LOOPBACK
    if local:
        return Finding(Status.WARN,
                       N_("served over plain HTTP on this machine only; cookies are "
                          "not marked Secure"),
                       N_("put ehrlich behind a TLS reverse proxy and set "
                          "base_url = \"https://your.domain\" (EHRLICH_BASE_URL) before anyone "
                          "else uses it"))
    return Finding(Status.FAIL,
                   N_("served publicly over plain HTTP ({base_url}); passwords and "
                      "session cookies travel readable"),
                   N_("put ehrlich behind a TLS reverse proxy "
                      "and set base_url = \"https://your.domain\" (EHRLICH_BASE_URL)"), params)


def _weak_url_password(url: str) -> bool:
    parts = urlsplit(url)
    if parts.hostname in LOOPBACK or parts.hostname is None:
        return False
    return (parts.password or "").lower() in WEAK_SECRETS


@check("secrets.defaults", N_("No default or weak secrets"))
def default_secrets(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    weak_db = bool(settings.database_url and _weak_url_password(settings.database_url))
    weak_redis = bool(settings.redis_url and _weak_url_password(settings.redis_url))
    if weak_db or weak_redis:
        detail = (N_("the database password is empty or a default; Redis on another host has "
                     "no or a default password") if weak_db and weak_redis
                  else N_("the database password is empty or a default") if weak_db
                  else N_("Redis on another host has no or a default password"))
        return Finding(Status.FAIL, detail,
                       N_("set a long random password (e.g. `openssl rand -base64 24`) on the "
                          "server and in EHRLICH_DATABASE_URL / EHRLICH_REDIS_URL"))
    return Finding(Status.PASS, N_("secrets come from the key file; no default passwords found"))


@check("web.proxies", N_("Client addresses come only from trusted proxies"))
def trusted_proxies(ctx: PostureContext) -> Finding:
    proxies = ctx.instance.settings.trusted_proxies
    if "*" in [p.strip() for p in proxies.split(",")]:
        return Finding(Status.WARN, N_("X-Forwarded-For is believed from any address, so an "
                          "attacker can choose the address that throttling counts"),
                       N_("set trusted_proxies to your reverse proxy's address"))
    return Finding(Status.PASS, N_("forwarded headers believed only from {proxies}"),
                   params={"proxies": proxies})


@check("audit.chain", N_("Audit chain verifies"))
def audit_chain(ctx: PostureContext) -> Finding:
    with ctx.instance.db.read() as session:
        report = ctx.instance.audit.verify_recent(session, now=ctx.now)
    if report.ok:
        return Finding(Status.PASS, NP_("{count} entry verified", "{count} entries verified"),
                       params={"count": report.checked})
    return Finding(Status.FAIL, report.reason,
                   N_("restore the database from the last verified backup and investigate "
                      "who had write access; `ehrlich audit verify` names the entry"))


@check("jobs.worker", N_("A worker runs the queued jobs"))
def job_worker(ctx: PostureContext) -> Finding:
    with ctx.instance.db.read() as session:
        oldest = job_store.oldest_ready(session, now=ctx.now)
        counts = job_store.counts(session, now=ctx.now)
    params = {"ready": counts["ready"], "later": counts["later"], "failed": counts["failed"]}
    if oldest is not None and ctx.now - oldest > JOBS_STALLED_AFTER:
        return Finding(Status.WARN, NP_("{count} job due since {since}: no worker is "
                                        "taking it (mail does not go out)",
                                        "{count} jobs due, the oldest since {since}: no "
                                        "worker is taking them (mail does not go out)"),
                       N_("start `ehrlich worker`, or set inprocess_worker = true so that "
                          "`ehrlich serve` runs one"),
                       {**params, "count": counts["ready"],
                        "since": oldest.strftime("%Y-%m-%d %H:%M UTC")})
    return Finding(Status.PASS, N_("{ready} due, {later} waiting to be retried, {failed} "
                                   "given up"), params=params)
