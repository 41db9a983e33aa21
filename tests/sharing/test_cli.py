"""`ehrlich export` and `ehrlich copies list|show|destroy` run as a user would: the real
command in a subprocess, against the test's instance."""

from __future__ import annotations

import getpass
import json
import stat
from pathlib import Path

from sqlalchemy import select

from ehrlich.instance.service import Instance
from ehrlich.sharing.copies import CopiesService
from ehrlich.sharing.models import Disclosure
from ehrlich.sharing.schemas import CopyFilters
from tests.conftest import NOW, Cli
from tests.factories import publish_notice
from tests.sharing.helpers import OPERATOR, person


def _run(cli: Cli, instance: Instance, *args: str) -> tuple[int, str, str]:
    done = cli("--data-dir", str(instance.settings.data_dir), *args)
    return done.returncode, done.stdout, done.stderr


def test_export_writes_a_tracked_file_and_copies_destroy_closes_it(
        cli: Cli, instance: Instance, tmp_path: Path) -> None:
    publish_notice(instance)
    ada = person(instance, "ada@example.org")
    code, _, err = _run(cli, instance, "export", "--purpose", "newsletter", "--format",
                        "ndjson", "--reason", "December mailing from the mail tool", "--to",
                        "Mail tool upload", "--output", "out.ndjson")
    assert code == 0, err
    out = tmp_path / "out.ndjson"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    [line] = [json.loads(x) for x in out.read_text().splitlines()]
    assert (line["id"], line["email"]) == (ada, "ada@example.org")
    assert "1 rows written" in err
    with instance.db.read() as session:
        [copy], _ = instance.service(CopiesService).page(session, CopyFilters(), OPERATOR,
                                                         now=NOW)
    assert copy.holder == f"cli:{getpass.getuser()}"
    assert (copy.what, copy.rows, copy.destination) == ("newsletter/email", 1,
                                                        "Mail tool upload")
    assert copy.id in err
    again = _run(cli, instance, "export", "--purpose", "newsletter", "--reason",
                 "December mailing from the mail tool", "--to", "x y z", "--output",
                 "out.ndjson")
    assert again[0] == 2
    assert "exists" in again[2]
    code, listing, _ = _run(cli, instance, "copies", "list", "--status", "open")
    assert code == 0
    assert copy.id in listing
    code, shown, _ = _run(cli, instance, "copies", "show", copy.id)
    assert code == 0
    assert "December mailing" in shown
    code, _, err = _run(cli, instance, "copies", "destroy", copy.id, "--note", "deleted")
    assert code == 0, err
    code, _, err = _run(cli, instance, "copies", "destroy", copy.id)
    assert code == 6  # a conflict: already destroyed
    assert "confirmed destroyed" in err
    assert _run(cli, instance, "copies", "show", "no-such-copy")[0] == 5


def test_export_for_a_recipient_records_disclosures_and_refuses_without_a_basis(
        cli: Cli, instance: Instance, tmp_path: Path) -> None:
    publish_notice(instance)
    ada = person(instance, "ada@example.org")
    code, _, err = _run(cli, instance, "export", "--recipient", "carrier", "--purpose",
                        "newsletter", "--reason", "Parcel labels for December",
                        "--output", "carrier.csv")
    assert code == 2
    assert "does not name 'carrier' as a recipient for 'newsletter'" in err
    assert not (tmp_path / "carrier.csv").exists()
    code, _, err = _run(cli, instance, "export", "--recipient", "mailer", "--purpose",
                        "newsletter", "--reason", "Monthly newsletter by the mailer",
                        "--output", "mailer.csv")
    assert code == 0, err
    assert ada in (tmp_path / "mailer.csv").read_text(encoding="utf-8-sig")
    with instance.db.read() as session:
        assert list(session.execute(select(Disclosure.subject_id)).scalars()) == [ada]
