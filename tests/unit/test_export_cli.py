"""``blueprint export`` (issue 16): from a generated file or a cached id, to every format; HubSpot
--dry-run and --apply against a live loopback stand-in (HUBSPOT_BASE_URL), the token never printed."""

from __future__ import annotations

import csv
import io
import json
import socket
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from graph.cache import open_run_cache
from graph.settings import get_settings
from server.cli import app
from tests.support.hubspot_standin import LEAKY_TOKEN, TOKEN, serve_hubspot
from tests.support.sample_blueprint import small_blueprint


@pytest.fixture
def bp_file(tmp_path: Path) -> Path:
    path = tmp_path / "bp.json"
    path.write_text(small_blueprint().model_dump_json(indent=2), encoding="utf-8")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_one_file_targets_go_to_stdout_or_out(bp_file: Path, tmp_path: Path) -> None:
    code, out, _ = run("export", str(bp_file), "--to", "hubspot", "--object", "contacts")
    assert code == 0 and json.loads(out)["object_type"] == "contacts"
    code, out, _ = run("export", str(bp_file), "--to", "jsonschema")
    assert code == 0 and json.loads(out)["$schema"].endswith("2020-12/schema")
    code, _, err = run("export", str(bp_file), "--to", "csv", "--out", str(tmp_path / "dict.csv"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "dict.csv").read_text("utf-8"))))
    assert code == 0 and "wrote" in err and [r["key"] for r in rows][:2] == ["employee_count", "annual_revenue"]


def test_folder_targets_write_a_tree_or_a_zip(bp_file: Path, tmp_path: Path) -> None:
    code, _, _ = run("export", str(bp_file), "--to", "salesforce", "--out", str(tmp_path / "sf"))
    assert code == 0 and (tmp_path / "sf/manifest/package.xml").is_file()
    assert (tmp_path / "sf/force-app/main/default/objects/Account/fields/Employee_Count__c.field-meta.xml").is_file()
    code, _, _ = run("export", str(bp_file), "--to", "clay", "--out", str(tmp_path / "clay.zip"))
    with zipfile.ZipFile(tmp_path / "clay.zip") as archive:
        assert code == 0 and set(archive.namelist()) == {"table.csv", "columns.json", "columns.md"}


def test_a_cached_blueprint_is_exported_by_its_id() -> None:
    bp = small_blueprint()
    cache = open_run_cache(get_settings())
    cache.set("some-run-key", bp.model_dump(mode="json"))
    cache.close()
    code, out, _ = run("export", bp.blueprint_id, "--to", "csv")
    assert code == 0 and out.startswith("key,name,section")
    code, _, err = run("export", "bp_0000000000ff", "--to", "csv")
    assert code == 2 and "No blueprint bp_0000000000ff" in err
    code, _, err = run("export", "not-a-thing", "--to", "csv")
    assert code == 2 and "neither a blueprint file nor a blueprint id" in err


def test_dry_run_prints_the_plan_and_sends_nothing(bp_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with serve_hubspot() as portal:
        monkeypatch.setenv("HUBSPOT_BASE_URL", portal.url)
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
        code, out, _ = run("export", str(bp_file), "--to", "hubspot", "--dry-run")
    assert code == 0 and "Dry run" in out and "eb_store_platform  enumeration/select" in out
    assert portal.requests == []


def test_apply_creates_then_reports_same_and_never_prints_the_token(
    bp_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_hubspot() as portal:
        monkeypatch.setenv("HUBSPOT_BASE_URL", portal.url)
        code, _, err = run("export", str(bp_file), "--to", "hubspot", "--apply")
        assert code == 2 and "HUBSPOT_ACCESS_TOKEN" in err  # no token, no call
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
        get_settings.cache_clear()
        code, first, _ = run("export", str(bp_file), "--to", "hubspot", "--apply")
        code2, second, _ = run("export", str(bp_file), "--to", "hubspot", "--apply")
        monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", LEAKY_TOKEN)
        get_settings.cache_clear()
        code3, out3, err3 = run("export", str(bp_file), "--to", "hubspot", "--apply")
    assert code == 0 and "group created; 5 created" in first
    assert code2 == 0 and "group exists; 0 created, 5 already there (same)" in second
    assert code3 == 4 and "HubSpot rejected" in err3 and LEAKY_TOKEN not in out3 + err3
    assert TOKEN not in first + second
    assert len(portal.properties["companies"]) == 5


def test_an_out_folder_or_an_unwritable_out(bp_file: Path, tmp_path: Path) -> None:
    code, _, _ = run("export", str(bp_file), "--to", "jsonschema", "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "schema.json").is_file()  # a folder: the file goes inside it
    code, _, err = run("export", str(bp_file), "--to", "clay", "--out", str(bp_file / "x"))
    assert code == 2 and "Cannot write the export" in err  # a file where a folder should go


def test_apply_and_dry_run_are_for_hubspot_only(bp_file: Path) -> None:
    code, _, err = run("export", str(bp_file), "--to", "csv", "--apply")
    assert code == 2 and "hubspot only" in err


def test_a_missing_file_or_a_json_that_is_not_a_blueprint_reads_in_one_line(tmp_path: Path) -> None:
    code, _, err = run("export", str(tmp_path / "nope.json"), "--to", "csv")
    assert code == 2 and err.strip() == f"error [validation_error]: {tmp_path / 'nope.json'}: file not found."
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}', encoding="utf-8")
    code, _, err = run("export", str(other), "--to", "csv")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "is not a blueprint written by `blueprint generate`: it lacks blueprint_id, website" in err
    assert "errors.pydantic.dev" not in err and "(and 3 more)" in err
    broken = tmp_path / "broken.json"
    broken.write_text("[1", encoding="utf-8")
    code, _, err = run("export", str(broken), "--to", "csv")
    assert code == 2 and "not valid JSON" in err


def test_apply_names_the_hubspot_url_it_could_not_reach(bp_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    monkeypatch.setenv("HUBSPOT_BASE_URL", f"http://127.0.0.1:{port}")
    get_settings.cache_clear()
    code, _, err = run("export", str(bp_file), "--to", "hubspot", "--apply")
    assert code == 4
    assert f"error [upstream_error]: Could not reach HubSpot at http://127.0.0.1:{port}." in err
