"""One web app per test process and shape, handed each test's instance.

`create_app` is cheap, but FastAPI builds each included route's dependencies lazily,
once per app, when a request first walks past it: a test with an app of its own paid
that for every route before the one it asked for (about two thirds of a console test's
requests' time). Routes, middleware and handlers reach the instance through
`app.state.instance` only, so an app built for one instance serves another of the same
shape: the same domains' contributions and the settings the middleware was built with.
"""

from __future__ import annotations

from collections.abc import Hashable

from fastapi import FastAPI

from ehrlich.app import create_app
from ehrlich.instance.service import Instance

_APPS: dict[Hashable, FastAPI] = {}


def _shape(instance: Instance) -> Hashable:
    """What `create_app` builds from, other than `app.state.instance`."""
    c, s = instance.contributions, instance.settings
    return (c.routers, c.console_routers, c.navigation, c.templates,
            s.max_body_bytes, s.base_url.startswith("https://"), s.signup_origins)


def app_for(instance: Instance) -> FastAPI:
    """The process's app of this instance's shape, serving `instance`, without the
    dependency overrides an earlier test set."""
    app = _APPS.get(_shape(instance))
    if app is None:
        app = _APPS[_shape(instance)] = create_app(instance)
    app.state.instance = instance
    app.dependency_overrides.clear()
    return app
