"""The OpenAPI document lists what the server answers: problem details for every error,
and the field rules it enforces, so generated clients and contract tests agree with it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"
METHODS = ("get", "post", "put", "patch", "delete")


def _api_operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method, path, item[method]) for path, item in spec["paths"].items()
            if path.startswith("/api/v1/") for method in METHODS if method in item]


def _problem(spec: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    schema = response["content"][PROBLEM]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    resolved: dict[str, Any] = spec["components"]["schemas"][name]
    return resolved


def test_every_api_operation_documents_its_problem_answers(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    operations = _api_operations(spec)
    assert len(operations) >= 8
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        expected = {"401", "403"}
        if op.get("parameters") or "requestBody" in op:
            expected.add("422")
        if "{" in path:
            expected.add("404")
        if "requestBody" in op:
            expected |= {"400", "413"}
        missing = expected - set(responses)
        assert not missing, f"{where} does not document {sorted(missing)}"
        for status in expected:
            assert list(responses[status]["content"]) == [PROBLEM], (where, status)
            problem = _problem(spec, responses[status])
            assert {"type", "title", "status", "detail"} <= set(problem["required"])
    assert "HTTPValidationError" not in spec["components"]["schemas"]


def _string_branch(prop: dict[str, Any]) -> dict[str, Any]:
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") == "string"]
    assert len(branches) == 1, prop
    return branches[0]


def test_spec_states_the_field_rules_the_server_enforces(client: TestClient) -> None:
    spec = client.get("/api/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("SubjectInput", "SubjectChanges", "SignupInput"):
        assert _string_branch(schemas[name]["properties"]["email"])["format"] == "email", name
    params = {(path, p["name"]): p["schema"] for path, item in spec["paths"].items()
              for op in item.values() for p in op.get("parameters", [])}
    assert params[("/api/v1/consent/check", "email")]["format"] == "email"
    assert params[("/api/v1/subjects", "email")]["format"] == "email"
    assert params[("/api/v1/audience", "channel")]["enum"] == ["email", "sms", "phone"]


def test_server_answers_match_the_documented_rules(client: TestClient, auth: Any) -> None:
    h = auth("subjects:write", "audience:read")
    r = client.get("/api/v1/audience", headers=h, params={"purpose": "news", "channel": "post"})
    assert (r.status_code, r.headers["content-type"]) == (422, PROBLEM)
    assert r.json()["errors"][0]["field"] == "channel"
    r = client.post("/api/v1/subjects", json={"email": "a@example.org"})
    assert (r.status_code, r.headers["content-type"]) == (401, PROBLEM)
