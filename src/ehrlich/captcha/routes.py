"""Challenges for public forms (signup, data requests, preferences) that look automated.

A form page may also embed a challenge server-side; either way the form posts
the solver's payload as `altcha` and its handler calls
`instance.staff.captcha.verify(payload, purpose=..., min_level=..., now=...)`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from ehrlich.errors import InvalidInput
from ehrlich.web.deps import InstanceDep, NowDep

router = APIRouter(prefix="/captcha", tags=["captcha"])
PUBLIC_PURPOSES = ("signup", "data-request", "preferences")


@router.get("/challenge", summary="A proof-of-work challenge (ALTCHA v2) for a public form")
def challenge(purpose: str, instance: InstanceDep, now: NowDep,
              response: Response) -> dict[str, Any]:
    if purpose not in PUBLIC_PURPOSES:
        raise InvalidInput.one("purpose", f"must be one of {', '.join(PUBLIC_PURPOSES)}")
    response.headers["cache-control"] = "no-store"
    return instance.staff.captcha.challenge(purpose=purpose, level=0, now=now)
