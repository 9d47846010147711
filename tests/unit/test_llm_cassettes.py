"""LLM cassettes and their digests depend only on the project's sources: not on the installed SDK
version, the date, the machine or the port a stand-in happened to get (issue 12, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support import openai_standin
from tests.support.openai_standin import CASSETTES, inputs_digest, llm_cassette

COMMITTED = sorted(CASSETTES.glob("*.yaml"))
BODY = {"model": "standin-model", "messages": [{"role": "user", "content": "hello from 127.0.0.1:8123"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "AnalysisDraft", "schema": {}}}}


def test_there_are_committed_llm_cassettes() -> None:
    assert len(COMMITTED) >= 5


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.stem)
def test_committed_cassettes_keep_no_version_date_or_machine_headers(path: Path) -> None:
    cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
    for interaction in cassette["interactions"]:
        assert set(interaction["request"]["headers"]) <= {"content-type"}
        assert set(interaction["response"]["headers"]) <= {"content-type"}
        assert "127.0.0.1:" not in (interaction["request"]["body"] or "").replace("127.0.0.1:PORT", "")


def _record(tmp: Path, monkeypatch: pytest.MonkeyPatch, body: str, headers: dict[str, str]) -> bytes:
    monkeypatch.setattr(openai_standin, "CASSETTES", tmp)
    with llm_cassette("probe") as llm:
        assert llm.recording
        response = httpx.post(llm.base_url + "/chat/completions", content=body,
                              headers={"content-type": "application/json", **headers})
        assert response.status_code == 200
    return (tmp / "probe.yaml").read_bytes()


def test_recording_twice_on_different_machines_writes_the_same_bytes(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Two "machines": another SDK version and platform, another key order and spacing in the JSON body,
    # another loopback port (each recording starts its own stand-in), another second on the clock.
    first = _record(tmp_path / "a", monkeypatch, json.dumps(BODY),
                    {"user-agent": "AsyncOpenAI/Python 3.57.0", "x-stainless-os": "Linux",
                     "x-stainless-arch": "x64", "x-stainless-package-version": "3.57.0",
                     "x-stainless-runtime-version": "3.11.7"})
    reordered = json.dumps(dict(reversed(list(BODY.items()))), indent=2).replace("8123", "40999")
    second = _record(tmp_path / "b", monkeypatch, reordered,
                     {"user-agent": "AsyncOpenAI/Python 9.1.0", "x-stainless-os": "MacOS",
                      "x-stainless-arch": "arm64", "x-stainless-package-version": "9.1.0",
                      "x-stainless-runtime-version": "3.13.1"})
    assert first == second
    text = first.decode()
    for leaked in ("user-agent", "x-stainless", "Python 3.", "date:", "server:", "BaseHTTP"):
        assert leaked not in text
    assert (tmp_path / "a" / "probe.digest").read_text() == (tmp_path / "b" / "probe.digest").read_text()


def test_a_recorded_cassette_replays_whatever_the_client_headers(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _record(tmp_path, monkeypatch, json.dumps(BODY), {"user-agent": "AsyncOpenAI/Python 3.57.0"})
    with llm_cassette("probe") as llm:
        assert not llm.recording
        replayed = httpx.post(llm.base_url + "/chat/completions", content=json.dumps(BODY, indent=1),
                              headers={"content-type": "application/json", "user-agent": "Other/2.0"})
    assert replayed.status_code == 200 and replayed.json()["object"] == "chat.completion"


def test_inputs_digest_ignores_line_endings_and_clone_location(tmp_path: Path) -> None:
    def tree(root: Path, newline: str) -> str:
        for rel, text in (("prompts/analyze.md", "line one\nline two\n"), ("graph/engine/llm.py", "x = 1\n")):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.replace("\n", newline).encode())
        return inputs_digest(root)

    unix = tree(tmp_path / "clone-one", "\n")
    assert tree(tmp_path / "somewhere" / "else", "\r\n") == unix
    (tmp_path / "clone-one" / "prompts" / "analyze.md").write_text("line one changed\n")
    assert inputs_digest(tmp_path / "clone-one") != unix  # a source change still re-records


def test_replay_ignores_sdk_defaults_spelled_out_or_not(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _record(tmp_path, monkeypatch, json.dumps({**BODY, "stream": False}), {})
    with llm_cassette("probe") as llm:
        assert not llm.recording
        replayed = httpx.post(llm.base_url + "/chat/completions", content=json.dumps(BODY),
                              headers={"content-type": "application/json"})
    assert replayed.status_code == 200
