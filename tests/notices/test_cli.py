"""`ehrlich notice ...` as a user runs it: exit codes, messages, outputs."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.notices.conftest import line_of, own_business, variant


@pytest.fixture
def data_dir(cli: Cli, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """An instance on SQLite; the service tests cover PostgreSQL."""
    env: dict[str, str] = {}
    r = cli("init", "--data-dir", "data", "--key-file", "keys/k.key", env=env)
    assert r.returncode == 0, r.stderr
    return tmp_path / "data", env


def test_lint_without_an_instance(cli: Cli, tmp_path: Path, example: str) -> None:
    (tmp_path / "good.yaml").write_text(own_business(example))
    good = cli("notice", "lint", "good.yaml")
    assert good.returncode == 0, good.stderr
    assert "good.yaml: 0 error(s), 0 warning(s)" in good.stdout
    bad_text = variant(example, ("en: Yes, send me a text message when my bike is ready.",
                                 "en: Untick this box if you do not want texts."))
    (tmp_path / "bad.yaml").write_text(bad_text)
    bad = cli("notice", "lint", "bad.yaml")
    assert bad.returncode == 1
    line = line_of(bad_text, "Untick this box")
    assert f"bad.yaml:{line}:13: error [double-negative]" in bad.stderr
    assert "[refusal-phrasing]" in bad.stderr
    assert "suggestion: ask for a yes" in bad.stderr


def test_lint_refuses_non_utf8(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes("controller: Müller".encode("latin-1"))
    r = cli("notice", "lint", "latin1.yaml")
    assert r.returncode == 1
    assert "not UTF-8 text" in r.stderr
    assert "Traceback" not in r.stderr


def test_lint_json(cli: Cli, tmp_path: Path, example: str) -> None:
    (tmp_path / "n.yaml").write_text(variant(example, ("duration: 3 years", "duration: forever")))
    r = cli("notice", "lint", "n.yaml", "--format", "json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["errors"] == 1
    [finding] = report["findings"]
    assert finding["rule"] == "schema"
    assert finding["line"] == line_of(example, "duration: 3 years")
    assert "'forever' is not a concrete duration" in finding["message"]


def test_lint_malformed_and_unknown_keys(cli: Cli, tmp_path: Path, example: str) -> None:
    (tmp_path / "m.yaml").write_text("format: 1\npurposes: [\n")
    r = cli("notice", "lint", "m.yaml")
    assert r.returncode == 1
    assert "m.yaml:3:1: error [yaml] malformed YAML" in r.stderr
    (tmp_path / "u.yaml").write_text(variant(example, ("format: 1", "format: 1\ncolour: blue")))
    r = cli("notice", "lint", "u.yaml")
    assert r.returncode == 1
    assert "u.yaml:7:1: error [schema] colour: unknown key" in r.stderr


def test_init_writes_an_example_that_publishes(cli: Cli, data_dir: tuple[Path, dict[str, str]]
                                               ) -> None:
    data, env = data_dir
    notice = data / "notice.yaml"
    assert "Lindenhof" in notice.read_text()
    first = cli("--data-dir", "data", "notice", "publish", "data/notice.yaml",
                "--publisher", "Jana", env=env)
    assert first.returncode == 0, first.stderr
    assert "Published version 1" in first.stdout
    again = cli("--data-dir", "data", "notice", "publish", "data/notice.yaml", env=env)
    assert again.returncode == 0
    assert "Unchanged: the file has the same content as version 1" in again.stdout
    assert "No new version" in again.stdout

    wider = variant(notice.read_text(), ("duration: 2 years", "duration: 3 years"))
    (data / "wider.yaml").write_text(wider)
    second = cli("--data-dir", "data", "notice", "publish", "data/wider.yaml", env=env)
    assert second.returncode == 0, second.stderr
    assert "-    duration: 2 years\n+    duration: 3 years" in second.stdout
    assert "Purpose newsletter widened: longer retention: 2 years → 3 years" in second.stdout
    assert "0 people's consents are marked as needing renewal." in second.stdout

    (data / "bad.yaml").write_text(variant(wider, ("default: unticked", "default: ticked")))
    bad = cli("--data-dir", "data", "notice", "publish", "data/bad.yaml", env=env)
    assert bad.returncode == 1
    assert "[preselected-default]" in bad.stderr
    assert "Nothing was published" in bad.stderr

    versions = cli("--data-dir", "data", "notice", "versions", env=env)
    assert [line.split("\t")[0] for line in versions.stdout.splitlines()] == ["1", "2"]
    show = cli("--data-dir", "data", "notice", "show", "--version", "1", env=env)
    assert show.returncode == 0
    assert "# version 1, published" in show.stdout
    assert "duration: 2 years" in show.stdout
    shown = json.loads(cli("--data-dir", "data", "notice", "show", "--format", "json",
                           env=env).stdout)
    assert shown["version"] == 2
    missing = cli("--data-dir", "data", "notice", "show", "--version", "5", env=env)
    assert missing.returncode == 5
    assert "there is no notice version 5" in missing.stderr


def test_ropa(cli: Cli, data_dir: tuple[Path, dict[str, str]]) -> None:
    _, env = data_dir
    none = cli("--data-dir", "data", "notice", "ropa", env=env)
    assert none.returncode == 5
    assert "no notice has been published yet" in none.stderr
    assert cli("--data-dir", "data", "notice", "publish", "data/notice.yaml", env=env
               ).returncode == 0
    md = cli("--data-dir", "data", "notice", "ropa", env=env)
    assert md.returncode == 0, md.stderr
    assert md.stdout.startswith("# Records of processing activities (GDPR Art. 30(1))")
    assert "## Activity `newsletter`" in md.stdout
    assert "| erasure time limit | 90 days after the repair is done |" in md.stdout
    assert "| recipients | Postwerk Mailing GmbH (processor, DE) |" in md.stdout
    assert ("| third country transfers | Textline Inc. → US: EU standard contractual clauses "
            "(2021/914), Module 2 |") in md.stdout
    out = cli("--data-dir", "data", "notice", "ropa", "--format", "csv", "--lang", "de",
              "--output", "ropa.csv", env=env)
    assert out.returncode == 0
    rows = list(csv.DictReader(io.StringIO((data_dir[0].parent / "ropa.csv").read_text())))
    assert [r["activity"] for r in rows] == ["orders", "bookkeeping", "newsletter", "repair_sms"]
    assert rows[2]["legal_basis"] == "Ihre Einwilligung (Art. 6 Abs. 1 lit. a DSGVO)"
    assert rows[2]["data_categories"] == "E-Mail-Adresse; Name"
    assert rows[3]["third_country_transfers"].startswith("Textline Inc. → US")
    assert rows[0]["third_country_transfers"] == ""
    assert rows[0]["recipients"] == "Spree Kurier GmbH (Verantwortlicher, DE)"
    assert {r["notice_version"] for r in rows} == {"1"}
