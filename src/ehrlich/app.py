"""`create_app`: the web application, mounting what the domains registered.

The shell's own pages (home, API docs, security.txt, the console frame) are mounted
here; every domain's routers and console pages come from `instance.contributions`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text

from ehrlich import __version__
from ehrlich.admin import shell as admin_shell
from ehrlich.instance.service import Instance
from ehrlich.registry import load_router
from ehrlich.web import api_docs, home, openapi, problems, security_page
from ehrlich.web.deps import InstanceDep
from ehrlich.web.middleware import BodyLimit, SecurityHeaders


def create_app(instance: Instance, *, command: str = "ehrlich") -> FastAPI:
    """The web application of `instance`. `command` starts a command line that reaches the
    instance on its server (`instance.commands.ehrlich_command`): the console writes the
    commands it advises with it."""
    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[None]:
        served: Instance = started.state.instance  # what requests see, as every route does
        # The requests handled at once: the database pool is sized from the same setting.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = served.settings.server_threads
        stop = served.api_tokens.listen()  # other processes' token revocations
        try:
            yield
        finally:
            stop()

    app = FastAPI(title="ehrlich", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url="/api/openapi.json", lifespan=lifespan)
    app.state.instance = instance
    app.state.command = command
    problems.install(app, redis=bool(instance.settings.redis_url))
    openapi.install(app)
    for router in (home.router, api_docs.router, *instance.contributions.routers):
        app.include_router(load_router(router))
    admin_shell.install(app, instance.contributions)
    app.include_router(security_page.router)
    app.mount("/static", StaticFiles(directory=str(files("ehrlich.web") / "static")),
              name="static")

    @app.get("/healthz", tags=["health"], summary="Liveness and database reachability")
    def healthz(instance: InstanceDep) -> dict[str, str]:
        with instance.db.read() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    app.add_middleware(BodyLimit, limit=instance.settings.max_body_bytes)
    app.add_middleware(SecurityHeaders, hsts=instance.settings.base_url.startswith("https://"),
                       frame_ancestors=instance.settings.signup_origins)
    return app
