"""`/api/docs`: the OpenAPI description rendered by the server itself.

No third-party script or stylesheet is loaded; the raw document is at
`/api/openapi.json` for tools.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ehrlich.web.templating import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    ops = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ops.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "tags": op.get("tags", []),
                "params": [(p["name"], p["in"], p.get("required", False))
                           for p in op.get("parameters", [])],
                "body": body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1],
                "responses": sorted(op.get("responses", {})),
                "scopes": op.get("description", ""),
            })
    return ops


@router.get("/api/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    schemas = spec.get("components", {}).get("schemas", {})
    return render(request, "api_docs.html", {
        "title": spec["info"]["title"], "version": spec["info"]["version"],
        "operations": _operations(spec), "schemas": schemas,
    })
