"""Parallel creation of the same person yields one subject."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from sqlalchemy import func, select

from ehrlich.auth.api_tokens import create_api_token
from ehrlich.domains import open_instance
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from ehrlich.subjects.models import Subject
from ehrlich.subjects.schemas import SubjectInput
from tests.conftest import NOW
from tests.e2e.servers import running_servers
from tests.instances import InstanceTemplates


def _subject_count(instance: Instance) -> int:
    with instance.db.read() as session:
        return int(session.execute(select(func.count()).select_from(Subject)).scalar_one())


def test_twenty_parallel_creates_make_one_subject(instance: Instance) -> None:
    def create(n: int) -> tuple[str, bool]:
        spelling = ["same@example.org", "SAME@example.org", " Same@Example.org "][n % 3]
        with instance.db.write() as session:
            outcome = instance.subjects.create(session, SubjectInput(email=spelling),
                                               actor=f"worker-{n}", now=NOW)
        return outcome.subject.id, outcome.created

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    assert len({sid for sid, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert _subject_count(instance) == 1
    with instance.db.read() as session:
        assert instance.audit.verify_chain(session).ok


def test_two_server_processes_on_postgresql(postgres_url: str, tmp_path: Path,
                                            instance_templates: InstanceTemplates) -> None:
    settings = Settings(data_dir=tmp_path / "data", key_file=tmp_path / "keys" / "k.key",
                        database_url=postgres_url)
    config = instance_templates.install(settings)
    instance = open_instance(settings)
    try:
        with instance.db.write() as session:
            token, _ = create_api_token(session, name="load", scopes=["subjects:write"], now=NOW)
        headers = {"Authorization": f"Bearer {token}"}
        with running_servers(config, 2, env={"EHRLICH_INPROCESS_WORKER": "false"}) as urls:
            def post(n: int) -> tuple[int, str]:
                r = httpx.post(f"{urls[n % 2]}/api/v1/subjects", headers=headers,
                               json={"email": "race@example.org", "name": f"try {n}"},
                               timeout=30)
                return r.status_code, r.json()["id"]

            with ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(post, range(20)))
        assert sorted(status for status, _ in results) == [200] * 19 + [201]
        assert len({sid for _, sid in results}) == 1
        assert _subject_count(instance) == 1
        with instance.db.read() as session:
            assert instance.audit.verify_chain(session).ok
    finally:
        instance.close()
