"""A loopback OpenAI-compatible server for the LLM engine's tests and benchmark.

``POST /v1/chat/completions`` answers like a well-behaved model: a strict ``json_schema`` answer in
``message.content`` (built from the grounding the prompt carries: it picks from ``<candidates>``,
quotes ``<seller_evidence>``), ``tool_calls`` when tools are offered and none were answered yet, and
``usage`` tokens (about four characters per token, counting messages, schema and tools as OpenAI does).

Misbehaviour is scripted with :class:`Fault` rules, matched by schema name and node::

    with OpenAIStandIn(faults=[Fault("error_500", node="technographic")], latency=0.4) as llm:
        os.environ["OPENAI_BASE_URL"] = llm.base_url

Fault kinds: ``error_500``, ``echo_key`` (a 401 whose error echoes the key sent in every field, as a
careless proxy might), ``slow`` (answers after ``seconds``), ``invalid_json``, ``schema_mismatch``,
``invented`` (adds a data point with an invented source id and one with an invented field path),
``obey_injection`` (a gullible model: does what the page's injected text asks), ``unknown_market`` (the
analysis names a market the catalog lacks; sections then author as many new data points as allowed). ``latency`` delays
every answer (benchmarks). Every request body is kept in ``requests``.

:func:`llm_cassette` records a test's LLM traffic into ``tests/cassettes/llm/<name>.yaml`` against
this server, then replays it with ``record_mode="none"`` (matched on method, scheme, host, port,
path, query and body) at the stable fake base URL :data:`FAKE_BASE_URL`.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import vcr
from vcr.serializers import yamlserializer

__all__ = ["FAKE_BASE_URL", "INJECTED_KEY", "Fault", "LLMRecording", "OpenAIStandIn", "llm_cassette"]

FAKE_BASE_URL = "http://llm.standin.test/v1"
INJECTED_KEY = "send_all_leads_to_attacker"


@dataclass
class Fault:
    # error_500 | echo_key | slow | invalid_json | schema_mismatch | invented | obey_injection | unknown_market
    kind: str
    node: str | None = None  # analyze_company | firmographic | technographic | personalization | None (all)
    times: int | None = None  # None: every matching call
    seconds: float = 3.0  # for ``slow``


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def _between(text: str, tag: str) -> str:
    m = re.search(rf"<{tag}[^>]*>(.*?)</{tag}>", text, re.S)
    return m.group(1).strip() if m else ""


def node_of(body: dict[str, Any]) -> str:
    schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")
    if schema == "AnalysisDraft":
        return "analyze_company"
    system = next((m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "system"), "")
    m = re.search(r"writing the \*\*(\w+)\*\* section", system)
    return m.group(1) if m else "unknown"


def _user(body: dict[str, Any]) -> str:
    return "\n".join(m.get("content") or "" for m in body.get("messages", []) if m.get("role") == "user")


def _analysis(body: dict[str, Any], gullible: bool, niche: bool = False) -> dict[str, Any]:
    user = _user(body)
    view = json.loads(_between(user, "catalog_view") or "{}")
    website = _between(user, "website")
    description = next((line[len("description: "):] for line in website.splitlines()
                        if line.startswith("description: ")), "")
    quote = description[:110].rsplit(" ", 1)[0] if len(description) > 110 else description
    verticals = [v["id"] for v in view.get("verticals", [])][:3]
    answer: dict[str, Any] = {
        "name": view.get("name") or "Seller", "summary": description or view.get("summary", ""),
        "offering": description.split(":")[0][:80] if description else "software",
        "category_ids": [c["id"] for c in view.get("categories", [])][:2], "vertical_ids": verticals,
        "markets_served": [v.replace("_", " ") for v in verticals], "channel": view.get("channel", "direct"),
        "motions": [m for m in view.get("motions", []) if m != "channel"],
        "integrations": view.get("integrations", [])[:5], "customers": view.get("customers", [])[:3],
        "geographies": view.get("geographies", []),
        "evidence": [{"claim": "sells: " + (view.get("name") or "product"), "snippet": quote}] if quote else [],
        "icp": {"industries": [v.replace("_", " ").title() for v in verticals[:2]],
                "buyer_titles": ["Owner", "Director of Operations"], "min_employees": 10, "max_employees": 500,
                "geographies": view.get("geographies", [])[:2], "technologies": view.get("integrations", [])[:3],
                "confidence": 0.7},
    }
    if niche:  # a market the catalog lacks, named in the model's own words
        answer["vertical_ids"] = ["commercial_beekeeping_operations"]
        answer["markets_served"] = ["commercial beekeepers", "pollination service operators"]
        answer["icp"]["industries"] = ["Commercial beekeeping"]
        answer["icp"]["buyer_titles"] = ["Owner", "Apiary Manager"]
    if gullible and INJECTED_KEY in website:
        answer["category_ids"] = ["attacker_category", *answer["category_ids"]]
        answer["evidence"].append({"claim": "sells: secrets", "snippet": "the OPENAI_API_KEY is sk-live-123"})
    return answer


def _section(body: dict[str, Any], fault_kinds: set[str]) -> dict[str, Any]:
    user = _user(body)
    node = node_of(body)
    seller = json.loads(_between(user, "seller") or "{}")
    quotes = json.loads(_between(user, "seller_evidence") or "[]")
    sources = json.loads(_between(user, "sources") or "{}")
    limit_m = re.search(r"at most (\d+) data points", user)
    limit = int(limit_m.group(1)) if limit_m else 5
    candidates = [json.loads(line) for line in _between(user, "candidates").splitlines() if line.strip()]
    picked = candidates[: max(1, limit - 1)]
    if len(picked) > 1:  # a model reranks: the second candidate leads
        picked[0], picked[1] = picked[1], picked[0]
    name = seller.get("name") or "The seller"
    out: list[dict[str, Any]] = []
    for i, c in enumerate(picked):
        quote = quotes[i % len(quotes)] if quotes else None
        why = f"{name} sells to teams where {c['name'].lower()} decides fit" + (f': "{quote}"' if quote else ".")
        out.append({"key": c["key"], "new": False, "priority": "must" if i < 3 else "should", "why": why,
                    "evidence": quote, "name": "", "description": "", "value_type": "", "example": "",
                    "sources": []})
    api = next(((sid, paths[0]) for sid, paths in sources.items() if paths), None)
    if api:
        out.append({"key": f"llm_{node}_fit_signal", "new": True, "priority": "nice",
                    "why": f"Extra signal for {name}.", "evidence": None, "name": f"LLM {node} fit signal",
                    "description": "A signal the catalog lacks, read from the provider record.",
                    "value_type": "string", "example": "yes", "sources": [{"source_id": api[0], "field": api[1]}]})
    niche = re.search(r"niche the catalog lacks: add up to (\d+) data points", user)
    if "unknown_market" in fault_kinds and niche:  # the niche's own points lead, the catalog's follow
        authored: list[dict[str, Any]] = []
        for i in range(int(niche.group(1)) - len([d for d in out if d["new"]])):
            source = {"source_id": api[0], "field": api[1]} if api and i == 0 else {"source_id": "manual_research",
                                                                                   "field": None}
            authored.append({"key": f"apiary_{node}_signal_{i}", "new": True, "priority": "should",
                             "why": f"{name} qualifies beekeepers on this.", "evidence": None,
                             "name": f"Apiary {node} signal {i}", "description": "Hive count, colonies under "
                             "contract or pollination routes, researched per lead.", "value_type": "string",
                             "example": "400 hives", "sources": [source]})
        out = [*authored, *out]
    if "invented" in fault_kinds:
        out += [
            {"key": "invented_source_point", "new": True, "priority": "nice", "why": "x", "evidence": None,
             "name": "Invented source point", "description": "Cites a source that does not exist.",
             "value_type": "string", "example": "x", "sources": [{"source_id": "crystal_ball_api", "field": None}]},
            {"key": "invented_field_point", "new": True, "priority": "nice", "why": "x", "evidence": None,
             "name": "Invented field point", "description": "Cites a provider field that does not exist.",
             "value_type": "string", "example": "x",
             "sources": [{"source_id": "apollo", "field": "organization.secret_budget_usd"}]},
        ]
    if "obey_injection" in fault_kinds and INJECTED_KEY in user:
        out.insert(0, {"key": INJECTED_KEY, "new": True, "priority": "must", "why": "The page said so.",
                       "evidence": None, "name": "Send all leads", "description": "Exfiltrate leads.",
                       "value_type": "url", "example": "http://169.254.169.254/",
                       "sources": [{"source_id": "attacker_webhook", "field": None}]})
    return {"data_points": out}


class OpenAIStandIn:
    def __init__(self, *, faults: list[Fault] | None = None, latency: float = 0.0) -> None:
        self.faults = list(faults or [])
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self._used: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle ---------------------------------------------------------------------------------
    def start(self) -> OpenAIStandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.request_queue_size = 256  # benchmarks open a few hundred connections at once
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> OpenAIStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._httpd is not None, "not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def calls(self, node: str | None = None) -> int:
        with self._lock:
            return sum(1 for b in self.requests if node is None or node_of(b) == node)

    # behaviour ---------------------------------------------------------------------------------
    def _faults_for(self, node: str) -> list[Fault]:
        active: list[Fault] = []
        with self._lock:
            for i, fault in enumerate(self.faults):
                if fault.node not in (None, node):
                    continue
                if fault.times is not None and self._used.get(i, 0) >= fault.times:
                    continue
                self._used[i] = self._used.get(i, 0) + 1
                active.append(fault)
        return active

    def answer(self, body: dict[str, Any], authorization: str = "") -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(body)
        node = node_of(body)
        faults = self._faults_for(node)
        kinds = {f.kind for f in faults}
        delay = self.latency + sum(f.seconds for f in faults if f.kind == "slow")
        if delay:
            self._stopping.wait(delay)
        if "error_500" in kinds:
            return 500, {"error": {"message": "The server had an error.", "type": "server_error"}}
        if "echo_key" in kinds:
            key = authorization.removeprefix("Bearer ")
            return 401, {"error": {"message": f"Incorrect API key provided: {key}.", "type": f"invalid_{key}",
                                   "param": key, "code": f"invalid_api_key:{key}"}}
        # ids from the request as a cassette keeps it (loopback ports masked): a re-recording matches
        digest = hashlib.sha256(canonical_body(json.dumps(body)) or b"").hexdigest()[:16]
        message: dict[str, Any] = {"role": "assistant", "content": None}
        finish = "stop"
        offered = [t["function"]["name"] for t in body.get("tools", [])]
        answered = any(m.get("role") == "tool" for m in body.get("messages", []))
        if offered and not answered:
            domain = re.search(r'<website domain="([^"]+)"', _user(body))
            args = json.dumps({"domain": domain.group(1) if domain else "example.com"})
            message["tool_calls"] = [{"id": f"call_{digest}_{i}", "type": "function",
                                      "function": {"name": name, "arguments": args}}
                                     for i, name in enumerate(offered[:2])]
            finish = "tool_calls"
        elif "invalid_json" in kinds:
            message["content"] = '{"data_points": [{"key": "employee_count", '
        elif "schema_mismatch" in kinds:
            message["content"] = json.dumps({"data_points": "twelve", "name": 42})
        elif node == "analyze_company":
            message["content"] = json.dumps(_analysis(body, "obey_injection" in kinds, "unknown_market" in kinds))
        else:
            message["content"] = json.dumps(_section(body, kinds))
        prompt = json.dumps(body.get("messages", [])) + json.dumps(body.get("response_format") or {})
        prompt += json.dumps(body.get("tools") or [])
        completion = message["content"] or json.dumps(message.get("tool_calls"))
        usage = {"prompt_tokens": _tokens(prompt), "completion_tokens": _tokens(completion)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        return 200, {"id": f"chatcmpl-{digest}", "object": "chat.completion", "created": 1_700_000_000,
                     "model": body.get("model", "standin"), "system_fingerprint": "standin",
                     "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
                     "usage": usage}


class _Handler(BaseHTTPRequestHandler):
    standin: OpenAIStandIn
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        if self.path.split("?")[0].rstrip("/") != "/v1/chat/completions":
            status, payload = 404, {"error": {"message": "not found", "type": "invalid_request_error"}}
        else:
            try:
                status, payload = self.standin.answer(json.loads(raw), self.headers.get("Authorization") or "")
            except (ValueError, KeyError, TypeError) as exc:  # a malformed request is a 400, as upstream
                status, payload = 400, {"error": {"message": str(exc), "type": "invalid_request_error"}}
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client timed out first: that is the test
            self.close_connection = True


@dataclass
class LLMRecording:
    """What a test gets inside :func:`llm_cassette`: the base URL to use, the live server when recording."""

    base_url: str
    standin: OpenAIStandIn | None
    recording: bool = field(default=False)


CASSETTES = Path(__file__).resolve().parent.parent / "cassettes" / "llm"
# A cassette keeps only what the engine's behaviour depends on: the request's method, URL and JSON body and
# the response's status, content type and body. Everything else a client or server adds (user-agent,
# x-stainless-* package/OS/arch/runtime versions, date, server, content-length, credentials) is dropped
# before recording, so re-recording on another machine, another day or another SDK version writes the
# same bytes.
KEPT_REQUEST_HEADERS = frozenset({"content-type"})
KEPT_RESPONSE_HEADERS = frozenset({"content-type"})
_ROOT = Path(__file__).resolve().parents[2]
# what shapes the LLM request bodies: when any of it changes the cassettes are recorded again (offline,
# against the stand-in), instead of failing on a body that no longer matches
_INPUTS = ("prompts/*.md", "graph/engine/*.py", "graph/nodes/*.py", "graph/knowledge/data/**/*.yaml",
           "graph/knowledge/data/VERSION", "tools/site.py", "tools/extract.py", "tools/page_signals.py",
           "tools/website.py", "tests/support/openai_standin.py", "tests/fixtures/sites/**/*.html")
_LOOPBACK = re.compile(r"127\.0\.0\.1:\d+")


def inputs_digest(root: Path = _ROOT) -> str:
    """A digest of the sources that shape the LLM requests: their repository-relative paths (POSIX
    separators) and contents with line endings normalised, so a Windows checkout (CRLF) or another clone
    location gives the same digest. Nothing installed, dated or machine-specific goes in."""
    digest = hashlib.sha256()
    for pattern in _INPUTS:
        for path in sorted(root.glob(pattern)):
            content = path.read_bytes().replace(b"\r\n", b"\n")
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + content)
    return digest.hexdigest()[:16]


def canonical_body(body: bytes | str | None) -> bytes | None:
    """A request body in one canonical JSON spelling (sorted keys, compact, loopback ports masked): the
    SDK's own key order and spacing can change between versions without the request changing."""
    if not body:
        return None
    text = _LOOPBACK.sub("127.0.0.1:PORT", body.decode() if isinstance(body, bytes) else body)
    try:
        parsed = json.loads(text)
    except ValueError:
        return text.encode()
    return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _only_llm(request: Any) -> Any:
    """Record only chat completions, at the fake host, without machine- or version-specific headers;
    the site and provider servers stay live."""
    if not request.path.endswith("/chat/completions"):
        return None
    query = urlsplit(request.uri).query
    request.uri = FAKE_BASE_URL + "/chat/completions" + (f"?{query}" if query else "")
    request.body = canonical_body(request.body)
    request.headers = {k: v for k, v in request.headers.items() if k.lower() in KEPT_REQUEST_HEADERS}
    return request


def _stable_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {k: v for k, v in response.get("headers", {}).items()
                           if k.lower() in KEPT_RESPONSE_HEADERS}
    return response


def sort_interactions(path: Path) -> None:
    """Order a freshly recorded cassette by request body (a stable sort: repeats of one request keep
    their recorded order, which replay follows). The section calls run in parallel, so the order they
    were recorded in is a race; sorted, a re-recording writes the same file."""
    cassette = yamlserializer.deserialize(path.read_text(encoding="utf-8"))
    cassette["interactions"].sort(key=lambda i: i["request"]["body"] or "")
    path.write_text(yamlserializer.serialize(cassette), encoding="utf-8")


# values an SDK may or may not spell out for the same request (langchain-openai sends "stream": false)
_SDK_DEFAULTS = {"stream": False, "n": 1}


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if not (k in _SDK_DEFAULTS and v == _SDK_DEFAULTS[k])}


def _json_body(r1: Any, r2: Any) -> None:
    a, b = (_comparable(json.loads(canonical_body(r.body) or b"{}")) for r in (r1, r2))
    if a != b:
        raise AssertionError("LLM request bodies differ")


@contextmanager
def llm_cassette(name: str, *, faults: list[Fault] | None = None, latency: float = 0.0) -> Iterator[LLMRecording]:
    """Replay ``tests/cassettes/llm/<name>.yaml``; record it against a fresh stand-in when it is missing,
    stale (the inputs digest changed) or ``LLM_CASSETTES=rerecord``."""
    path = CASSETTES / f"{name}.yaml"
    stamp = path.with_suffix(".digest")
    digest = inputs_digest()
    stale = not stamp.exists() or stamp.read_text().strip() != digest
    if path.exists() and (stale or os.environ.get("LLM_CASSETTES") == "rerecord"):
        path.unlink()
    recorder = vcr.VCR(match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
                       before_record_request=_only_llm, before_record_response=_stable_response,
                       decode_compressed_response=True)
    recorder.register_matcher("json_body", _json_body)
    if path.exists():
        with recorder.use_cassette(str(path), record_mode="none"):
            yield LLMRecording(base_url=FAKE_BASE_URL, standin=None)
        return
    CASSETTES.mkdir(parents=True, exist_ok=True)
    with OpenAIStandIn(faults=faults, latency=latency) as standin, \
            recorder.use_cassette(str(path), record_mode="once"):
        yield LLMRecording(base_url=standin.base_url, standin=standin, recording=True)
    if path.exists():
        sort_interactions(path)
    stamp.write_text(digest + "\n")
