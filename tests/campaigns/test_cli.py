"""`ehrlich campaign`: create from template files, send, run in the foreground, report;
a refused action is a message and an exit code."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from ehrlich.campaigns.errors import CampaignStateError
from ehrlich.cli.main import app
from ehrlich.errors import InvalidInput
from ehrlich.instance.service import Instance
from ehrlich.settings import Settings
from tests.campaigns.people import people
from tests.mail.smtp_server import SmtpServer


def test_create_send_run_report(instance: Instance, settings: Settings, smtp: SmtpServer,
                                tmp_path: Path) -> None:
    people(instance, 5, consented={0, 1, 2})
    text = tmp_path / "autumn.txt"
    text.write_text("Hello {{ name }}\n", encoding="utf-8")
    env = {"EHRLICH_SMTP_HOST": "127.0.0.1", "EHRLICH_SMTP_PORT": str(settings.smtp_port),
           "EHRLICH_SMTP_TLS": "none", "EHRLICH_SMTP_FROM": str(settings.smtp_from),
           "EHRLICH_BASE_URL": settings.base_url, "EHRLICH_CAMPAIGN_RATE": "0"}
    base = ["--data-dir", str(settings.data_dir)]
    runner = CliRunner()

    def run(*args: str) -> str:
        result = runner.invoke(app, [*base, "campaign", *args], env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    campaign = run("create", "--name", "Autumn", "--purpose", "newsletter",
                   "--subject", "Hi {{ name }}", "--text", str(text)).strip()
    assert campaign in run("list")
    assert "sending" in run("send", campaign)
    assert "sent: 3 sent" in run("run", campaign)
    assert len(smtp.received) == 3
    report = run("report", campaign)
    assert re.search(r"^\s*sent\s+3$", report, re.M), report
    assert re.search(r"^\s*delivered\s+3$", report, re.M), report
    assert re.search(r"^\s*complaint_rate\s+0\.00%$", report, re.M), report
    refused = runner.invoke(app, [*base, "campaign", "resume", campaign], env=env)
    assert isinstance(refused.exception, CampaignStateError)  # exit code 6 (Conflict)
    assert refused.exception.message == "a sent campaign cannot resume"
    bad = runner.invoke(app, [*base, "campaign", "create", "--name", "x", "--purpose",
                              "newsletter", "--subject", "{{ email }}", "--text", str(text)],
                        env=env)
    assert isinstance(bad.exception, InvalidInput)  # exit code 2
    assert bad.exception.problems[0].field == "subject"
