"""Instance-wide checks: key file, HTTPS, default secrets, trusted proxies, audit chain."""

from __future__ import annotations

import stat
from urllib.parse import urlsplit

from ehrlich.posture.schemas import Finding, PostureContext, Status, check

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
WEAK_SECRETS = {"", "postgres", "password", "ehrlich", "changeme", "secret", "admin", "redis"}


@check("keys.file", "Key file is outside the data directory and private")
def key_file(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    path, data_dir = settings.key_file.absolute(), settings.data_dir.absolute()
    if not path.exists():
        return Finding(Status.FAIL, f"the key file {path} is missing",
                       "restore it from your key backup and set EHRLICH_KEY_FILE")
    if data_dir == path.parent or data_dir in path.parents:
        return Finding(Status.FAIL, f"the key file {path} is inside the data directory, so "
                       "every copy of the data carries its key",
                       f"move it elsewhere (e.g. /etc/ehrlich/) and set key_file in "
                       f"{data_dir}/ehrlich.toml")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        return Finding(Status.FAIL, f"the key file is readable by others (mode {mode:04o})",
                       f"chmod 600 {path}")
    return Finding(Status.PASS, f"{path} (mode {mode:04o})")


@check("web.https", "Served over HTTPS with secure cookies")
def https(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    url = urlsplit(settings.base_url)
    if url.scheme == "https":
        return Finding(Status.PASS, f"base_url is {settings.base_url}: cookies are __Host- "
                       "and Secure, HSTS is sent")
    local = url.hostname in LOOPBACK and settings.host in LOOPBACK
    fix = ("put ehrlich behind a TLS reverse proxy and set base_url = \"https://your.domain\" "
           "(EHRLICH_BASE_URL)")
    if local:
        return Finding(Status.WARN, "served over plain HTTP on this machine only; cookies are "
                       "not marked Secure", fix + " before anyone else uses it")
    return Finding(Status.FAIL, f"served publicly over plain HTTP ({settings.base_url}); "
                   "passwords and session cookies travel readable", fix)


def _weak_url_password(url: str) -> bool:
    parts = urlsplit(url)
    if parts.hostname in LOOPBACK or parts.hostname is None:
        return False
    return (parts.password or "").lower() in WEAK_SECRETS


@check("secrets.defaults", "No default or weak secrets")
def default_secrets(ctx: PostureContext) -> Finding:
    settings = ctx.instance.settings
    problems = []
    if settings.database_url and _weak_url_password(settings.database_url):
        problems.append("the database password is empty or a default")
    if settings.redis_url and _weak_url_password(settings.redis_url):
        problems.append("Redis on another host has no or a default password")
    if problems:
        return Finding(Status.FAIL, "; ".join(problems),
                       "set a long random password (e.g. `openssl rand -base64 24`) on the "
                       "server and in EHRLICH_DATABASE_URL / EHRLICH_REDIS_URL")
    return Finding(Status.PASS, "secrets come from the key file; no default passwords found")


@check("web.proxies", "Client addresses come only from trusted proxies")
def trusted_proxies(ctx: PostureContext) -> Finding:
    proxies = ctx.instance.settings.trusted_proxies
    if "*" in [p.strip() for p in proxies.split(",")]:
        return Finding(Status.WARN, "X-Forwarded-For is believed from any address, so an "
                       "attacker can choose the address that throttling counts",
                       "set trusted_proxies to your reverse proxy's address")
    return Finding(Status.PASS, f"forwarded headers believed only from {proxies}")


@check("audit.chain", "Audit chain verifies")
def audit_chain(ctx: PostureContext) -> Finding:
    with ctx.instance.db.read() as session:
        report = ctx.instance.audit.verify_chain(session)
    if report.ok:
        return Finding(Status.PASS, f"{report.checked} entries verified")
    return Finding(Status.FAIL, report.reason,
                   "restore the database from the last verified backup and investigate "
                   "who had write access; `ehrlich audit verify` names the entry")
