"""`ehrlich import FILE` run as a user would: the real command in a subprocess."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli
from tests.imports.sample import make_sample

MAP = "email=E-Mail,name=Name,attr=Kundennummer"


def _instance(cli: Cli) -> None:
    assert cli("init", "--data-dir", "inst/data", "--key-file", "inst/keys/k.key"
               ).returncode == 0
    published = cli("--data-dir", "inst/data", "notice", "publish", "inst/data/notice.yaml")
    assert published.returncode == 0, published.stderr


def test_import_prints_counts_and_writes_the_report(cli: Cli, tmp_path: Path) -> None:
    _instance(cli)
    (tmp_path / "list.csv").write_bytes(make_sample(200).raw)
    r = cli("--data-dir", "inst/data", "import", "list.csv", "--source", "Old shop list",
            "--map", MAP, "--evidence-column", "Opt-in-Quelle", "--date-column",
            "Opt-in-Datum", "--report", "rejected.csv")
    assert r.returncode == 0, r.stderr
    assert "200 rows, read as utf-8 with ';' between columns" in r.stdout
    assert "│ new contacts               │   184 │" in r.stdout
    assert "│ rejected                   │    10 │" in r.stdout
    report = (tmp_path / "rejected.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[:2] == ["row,column,reason", "2,E-Mail,is not a valid email address "
                          "(An email address must have an @-sign.)"]
    assert len(report) == 11


def test_dry_run_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    _instance(cli)
    (tmp_path / "list.csv").write_bytes(make_sample(100).raw)
    r = cli("--data-dir", "inst/data", "import", "list.csv", "--source", "Old shop list",
            "--map", MAP, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "dry run: 4 of 100 rows would be rejected; nothing was written" in r.stdout
    again = cli("--data-dir", "inst/data", "import", "list.csv", "--source", "x", "--map",
                "email=E-Mail,name=Nom")
    assert again.returncode == 2
    assert "mapping.name: the file has no column 'Nom'" in again.stderr
