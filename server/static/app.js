// The page's behaviour: start a run, follow its events, render the blueprint. No framework, no build step.
// Everything that came from a website or the server is written with textContent, never as HTML.
"use strict";

const API = "/v1/campaigns/enrichment";
const NODES = ["fetch_site", "analyze_company", "resolve_icp", "firmographic", "technographic",
  "personalization", "sources", "collection_methods", "coverage", "assemble"];
const KEY_STORE = "blueprint-api-key"; // sessionStorage: gone when the tab closes
const $ = (id) => document.getElementById(id);

let current = { run: null, blueprint: null, source: null, lastEventId: 0, reopened: 0 };
let pendingAfterKey = null;

class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status; this.code = err.code || `http_${status}`; this.requestId = err.request_id;
  }
}

function headers(extra) {
  const h = Object.assign({}, extra || {});
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) h["X-API-Key"] = key;
  return h;
}

async function api(method, path, body, accept) {
  const init = { method, headers: headers({ Accept: accept || "application/json" }) };
  if (body !== undefined) { init.body = JSON.stringify(body); init.headers["Content-Type"] = "application/json"; }
  const res = await fetch(path, init);
  if (!res.ok) {
    let parsed = null;
    try { parsed = await res.json(); } catch (_) { /* not JSON: keep the status */ }
    throw new ApiError(res.status, parsed);
  }
  return res;
}

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  return node;
}

function list(value) { return (value || "").split(/[,\n]/).map((s) => s.trim()).filter(Boolean); }

// ── errors and the API key ──
function showError(error) {
  const box = $("error");
  box.replaceChildren();
  if (error instanceof ApiError) {
    box.append(el("code", error.code), document.createTextNode(": " + error.message));
    if (error.requestId) box.append(el("div", "Request id: " + error.requestId));
  } else {
    box.append(document.createTextNode(String(error.message || error)));
  }
  box.hidden = false;
}

function clearError() { $("error").hidden = true; $("error").replaceChildren(); }

async function guarded(action, keepError) {
  try {
    if (!keepError) clearError();
    await action();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(KEY_STORE);
      pendingAfterKey = action;
      $("key-form").hidden = false;
      $("api-key").focus();
      showError(error);
    } else {
      showError(error);
    }
    setBusy(false);
  }
}

// ── the form ──
function requestBody() {
  const icp = {};
  for (const [field, id] of [["industries", "industries"], ["geographies", "geographies"],
    ["buyer_titles", "buyer-titles"], ["technologies", "technologies"]]) {
    const values = list($(id).value);
    if (values.length) icp[field] = values;
  }
  const min = $("min-employees").value, max = $("max-employees").value;
  if (min || max) {
    icp.company_size = {};
    if (min) icp.company_size.min_employees = Number(min);
    if (max) icp.company_size.max_employees = Number(max);
  }
  if ($("notes").value.trim()) icp.notes = $("notes").value.trim();
  const body = { website: $("website").value.trim(), options: { engine: $("engine").value } };
  if (Object.keys(icp).length) body.icp = icp;
  const samples = list($("sample-domains").value);
  if (samples.length) body.sample_domains = samples;
  return body;
}

function setBusy(busy) {
  $("submit").disabled = busy;
  $("cancel").hidden = !busy;
}

function setUrl(params) {
  const url = new URL(window.location.href);
  url.search = new URLSearchParams(params).toString();
  history.replaceState(null, "", url);
}

async function startRun() {
  const body = requestBody();
  if (!body.website) { showError(new Error("Enter your company's website.")); $("website").focus(); return; }
  resetView();
  setBusy(true);
  const res = await api("POST", API + "/runs", body);
  const answer = await res.json();
  if (res.status === 200) { // the blueprint was already there
    setUrl({ blueprint: answer.blueprint_id });
    await showBlueprintById(answer.blueprint_id);
    return;
  }
  setUrl({ run: answer.run_id });
  follow(answer);
}

// ── following a run ──
function resetView() {
  closeStream();
  current = { run: null, blueprint: null, source: null, lastEventId: 0, reopened: 0 };
  $("result").hidden = true;
  $("blueprint").replaceChildren();
  $("download-status").textContent = "";
  const nodes = $("nodes");
  nodes.replaceChildren();
  for (const name of NODES) nodes.append(nodeItem(name));
  $("progress").hidden = false;
  $("run-status").textContent = "Starting…";
}

function nodeItem(name) {
  const item = el("li", null, { "data-node": name, "data-state": "pending" });
  item.append(el("span", name.replace(/_/g, " ")), el("span", "waiting", { class: "state" }));
  return item;
}

function markNode(name, state, text) {
  let item = document.querySelector(`#nodes li[data-node="${CSS.escape(name)}"]`);
  if (!item) { item = nodeItem(name); $("nodes").append(item); }
  item.setAttribute("data-state", state);
  item.querySelector(".state").textContent = text;
}

function closeStream() {
  if (current.source) { current.source.close(); current.source = null; }
}

function follow(run) {
  current.run = run;
  closeStream();
  let url = run.links.events;
  if (current.lastEventId) url += (url.includes("?") ? "&" : "?") + "last_event_id=" + current.lastEventId;
  const source = new EventSource(url);
  current.source = source;
  const on = (name, fn) => source.addEventListener(name, (e) => {
    // "error" is also what EventSource fires, without data, when the connection fails (onerror below)
    if (typeof e.data !== "string") return;
    current.lastEventId = Number(e.lastEventId) || current.lastEventId;
    fn(JSON.parse(e.data));
  });
  on("run_started", (d) => { $("run-status").textContent = `Run ${run.run_id} started (engine ${d.engine}, cache ${d.cache}).`; });
  on("node_started", (d) => { markNode(d.node, "running", "running…"); $("run-status").textContent = `Running ${d.node}…`; });
  on("node_completed", (d) => markNode(d.node, "done", `done in ${Math.round(d.duration_ms)} ms`));
  on("warning", (d) => { $("run-status").textContent = `Warning: ${d.message}`; });
  on("blueprint", (d) => { $("run-status").textContent = "Blueprint ready."; renderBlueprint(d); });
  on("error", (d) => showError(new ApiError(0, { error: d })));
  on("done", () => { closeStream(); setBusy(false); });
  source.onerror = () => {
    // A dropped connection reconnects by itself (with Last-Event-ID). A refused one (e.g. an expired
    // stream token) is closed: fetch the run again for a fresh link and resume after the last event.
    // Either way, a run that ended without this page seeing its end (its server process died) is
    // shown as it ended instead of being waited for.
    if (current.source !== source || current.reopened >= 5) return;
    current.reopened += 1;
    guarded(async () => {
      const fresh = await (await api("GET", `${API}/runs/${run.run_id}`)).json();
      if (current.source !== source) return;
      if (fresh.status === "failed" && fresh.error && fresh.error.code === "run_lost") {
        closeStream(); setBusy(false); showError(new ApiError(0, { error: fresh.error }));
      } else if (source.readyState === EventSource.CLOSED) {
        follow(fresh);
      }
    }, true); // (an `error` event from the run also lands here: keep it on screen)
  };
}

async function resumeRun(runId) {
  resetView();
  setBusy(true);
  const run = await (await api("GET", `${API}/runs/${encodeURIComponent(runId)}`)).json();
  if (run.website) $("website").value = run.website;
  if (run.engine) $("engine").value = run.engine;
  follow(run); // replays every event from the start, then follows live
}

async function showBlueprintById(id) {
  const bp = await (await api("GET", `${API}/${encodeURIComponent(id)}`)).json();
  $("progress").hidden = true;
  setBusy(false);
  renderBlueprint(bp);
}

// ── the blueprint as tables ──
function table(caption, columns, rows, className) {
  const t = el("table", null, className ? { class: className } : {});
  t.append(el("caption", caption));
  const head = el("tr");
  for (const c of columns) head.append(el("th", c, { scope: "col" }));
  const thead = el("thead");
  thead.append(head);
  t.append(thead);
  const body = el("tbody");
  for (const row of rows) {
    const tr = el("tr");
    for (const cell of row) {
      const td = el("td");
      if (cell instanceof Node) td.append(cell); else td.textContent = cell === undefined || cell === null ? "" : String(cell);
      tr.append(td);
    }
    body.append(tr);
  }
  t.append(body);
  return t;
}

function fieldPaths(dp, sources) {
  const wrap = el("div");
  for (const id of dp.source_ids || []) {
    const source = sources[id];
    const path = (dp.source_fields || {})[id] || (source && source.fields && source.fields[dp.key]);
    const line = el("div", source ? source.name : id);
    if (path) { line.append(document.createTextNode(" → ")); line.append(el("code", path)); }
    wrap.append(line);
  }
  return wrap;
}

function renderBlueprint(bp) {
  current.blueprint = bp;
  const out = $("blueprint");
  out.replaceChildren();
  const company = bp.company || {};
  const icp = bp.icp || {};
  const summary = el("dl", null, { class: "summary" });
  const facts = [["Company", `${company.name || ""} (${company.domain || bp.website})`], ["What it sells", company.offering || company.summary],
    ["Category", company.category], ["ICP", `${icp.source || ""}, confidence ${Math.round((icp.confidence || 0) * 100)}%: ` +
      (icp.industries || []).join(", ")], ["Buyer titles", (icp.buyer_titles || []).join(", ")],
    ["Engine", `${(bp.meta || {}).engine || ""} · cache ${(bp.meta || {}).cache || ""} · ${bp.blueprint_id}`]];
  for (const [k, v] of facts) if (v) summary.append(el("dt", k), el("dd", v));
  out.append(summary);
  const sources = Object.fromEntries((bp.sources || []).map((s) => [s.id, s]));
  for (const section of ["firmographic", "technographic", "personalization"]) {
    const points = ((bp[section] || {}).data_points) || [];
    out.append(table(section[0].toUpperCase() + section.slice(1) + " data points",
      ["Priority", "Data point", "Why", "Qualification rule", "Sources (field path)"],
      points.map((dp) => [el("span", dp.priority, { class: "prio-" + dp.priority }), dp.name + ` (${dp.key})`,
        dp.why, dp.qualification_rule || "", fieldPaths(dp, sources)]), "data-points"));
  }
  out.append(table("Sources", ["Source", "Kind", "Provides", "Access", "Cost"],
    (bp.sources || []).map((s) => [s.name, s.kind, (s.provides || []).join(", "), s.access, s.cost])));
  out.append(table("Collection plan", ["Data points", "Method", "Provider order", "Cadence", "Est. cost / 1k leads", "Validation"],
    (bp.collection_methods || []).map((m) => [(m.data_points || []).join(", "), m.method.replace(/_/g, " "),
      (m.provider_order || []).join(" → "), m.cadence, "$" + Number(m.est_cost_per_1k_leads_usd || 0).toFixed(2), m.validation])));
  const warnings = bp.warnings || [];
  out.append(table("Warnings", ["Code", "Message"], warnings.length ? warnings.map((w) => [w.code, w.message]) : [["—", "none"]]));
  $("result").hidden = false;
  $("result-title").focus();
}

// ── downloads and exports ──
async function download(path, accept, filename) {
  const res = await api("GET", path, undefined, accept);
  const blob = await res.blob();
  const link = el("a", null, { href: URL.createObjectURL(blob), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  $("download-status").textContent = `Downloaded ${filename}.`;
}

function wireDownloads() {
  const id = () => current.blueprint && current.blueprint.blueprint_id;
  $("download-md").addEventListener("click", () => guarded(() =>
    download(`${API}/${id()}?format=markdown`, "text/markdown", `${id()}.md`)));
  $("download-json").addEventListener("click", () => guarded(async () => {
    const blob = new Blob([JSON.stringify(current.blueprint, null, 2)], { type: "application/json" });
    const link = el("a", null, { href: URL.createObjectURL(blob), download: `${id()}.json` });
    document.body.append(link); link.click(); link.remove();
    $("download-status").textContent = `Downloaded ${id()}.json.`;
  }));
  for (const button of document.querySelectorAll("[data-export]")) {
    button.addEventListener("click", () => guarded(async () => {
      const format = button.getAttribute("data-export");
      try {
        const res = await api("GET", `${API}/${id()}/exports/${format}`, undefined, "*/*");
        const disposition = res.headers.get("Content-Disposition") || "";
        const named = /filename="?([^";]+)"?/.exec(disposition);
        const blob = await res.blob();
        const link = el("a", null, { href: URL.createObjectURL(blob), download: named ? named[1] : `${id()}-${format}` });
        document.body.append(link); link.click(); link.remove();
        $("download-status").textContent = `Exported ${format}.`;
      } catch (error) {
        if (error instanceof ApiError && error.status === 404 && error.code === "not_found" && /No such resource/.test(error.message)) {
          $("download-status").textContent = `The ${format} export is not available on this server.`;
          return;
        }
        throw error;
      }
    }));
  }
}

// ── start-up ──
function prefill(params) {
  if (params.get("website")) $("website").value = params.get("website");
  const engine = params.get("engine");
  if (engine && ["auto", "catalog", "llm"].includes(engine)) $("engine").value = engine;
}

document.addEventListener("DOMContentLoaded", () => {
  wireDownloads();
  $("run-form").addEventListener("submit", (e) => { e.preventDefault(); guarded(startRun); });
  $("cancel").addEventListener("click", () => guarded(async () => {
    if (!current.run) return;
    await api("DELETE", `${API}/runs/${current.run.run_id}`);
    $("run-status").textContent = "Cancelled.";
  }));
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem(KEY_STORE, $("api-key").value);
    $("api-key").value = "";
    $("key-form").hidden = true;
    const retry = pendingAfterKey; pendingAfterKey = null;
    if (retry) guarded(retry);
  });
  const params = new URLSearchParams(window.location.search);
  prefill(params);
  if (params.get("run")) guarded(() => resumeRun(params.get("run")));
  else if (params.get("blueprint")) guarded(() => showBlueprintById(params.get("blueprint")));
  else if (params.get("website")) guarded(startRun);
});
