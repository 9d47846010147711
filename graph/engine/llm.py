"""The LLM engine: refine a node's catalog result with a grounded, structured LLM answer.

Called by ``graph.nodes._llm.refine`` only when the resolved engine is ``llm``; any error raised here
makes that node fall back to its catalog result (``llm_fallback`` warning). Two dependent calls after
the site is read: ``analyze_company`` (seller + ICP in one call; provider tools may add one round)
and the three sections, which the graph already runs in parallel. Sources and collection methods stay
derived from the chosen data points. Budgets: ``settings.llm_max_calls`` calls and
``settings.llm_max_prompt_tokens`` prompt tokens per blueprint, split ahead of time between the
nodes (they run in parallel and cannot see each other's usage).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from langgraph.runtime import Runtime

from graph.engine.llm_client import chat_model, complete, parse, redactor_of
from graph.engine.llm_grounding import MAX_NEW, MAX_NEW_OPEN_WORLD, corpus_of, ground_analysis, ground_section
from graph.engine.llm_models import AnalysisDraft, SectionDraft
from graph.engine.llm_prompts import CHARS_PER_TOKEN, analysis_messages, section_messages
from graph.nodes._common import context_of, request_of
from graph.resources import Resources, get_resources
from graph.schemas import Company, LLMUsage, Section, Warning
from graph.settings import Settings
from graph.state import BlueprintState, Context, MarketSignals
from tools.errors import LLMError

__all__ = ["SECTION_NODES", "Refined", "budgets", "refine"]

T = TypeVar("T")
log = logging.getLogger(__name__)

SECTION_NODES = ("firmographic", "technographic", "personalization")
ANALYSIS_SHARE = 0.4  # of the prompt-token budget; the three sections share the rest equally
TOOL_RESULT_TOKENS = 400  # per provider tool result shown to the model
# the tools the analysis may call: lookups of the seller's own domain, nothing that spends per person
ANALYSIS_TOOLS = ("apollo_enrich_organization", "clearbit_find_company")
PROVIDER_FACTS = ("industry", "industries", "keywords", "short_description", "description", "category",
                  "tags", "sub_industry", "estimated_num_employees", "employees", "tech", "technologies")


@dataclass
class Refined(Generic[T]):
    """What an LLM step returns to the seam: the result, its usage, warnings and extra state updates."""

    result: T
    usage: LLMUsage
    warnings: list[Warning] = field(default_factory=list)
    updates: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Budgets:
    analysis_tokens: int  # per analysis call
    section_tokens: int  # per section call
    tool_calls: int  # provider tool calls allowed in the analysis (one round)


def budgets(settings: Settings, *, tools: bool) -> Budgets:
    """Split the per-blueprint budgets: one analysis call (two with a tool round) plus three sections."""
    total = settings.llm_max_prompt_tokens
    analysis = int(total * ANALYSIS_SHARE)
    section = (total - analysis) // len(SECTION_NODES) - 50
    tool_calls = settings.llm_max_tool_calls if tools and settings.llm_max_calls >= len(SECTION_NODES) + 2 else 0
    if tool_calls:  # the second call repeats the first plus the tool results
        analysis = (analysis - TOOL_RESULT_TOKENS * tool_calls) // 2
    return Budgets(analysis_tokens=analysis, section_tokens=section, tool_calls=tool_calls)


def _add(a: LLMUsage, b: LLMUsage) -> LLMUsage:
    return LLMUsage(calls=a.calls + b.calls, prompt_tokens=a.prompt_tokens + b.prompt_tokens,
                    completion_tokens=a.completion_tokens + b.completion_tokens)


async def refine(
    node: str, state: BlueprintState, runtime: Runtime[Context], catalog_result: Any, **grounding: Any
) -> Refined[Any]:
    resources = get_resources()
    model = context_of(runtime).model or resources.settings.blueprint_model
    if node == "analyze_company":
        company, market = catalog_result
        return await _analyze(resources, model, state, company, market, grounding["kb"])
    if node in SECTION_NODES:
        return await _section(resources, model, node, state, catalog_result, **grounding)
    raise ValueError(f"the LLM engine has no step for node {node!r}")


# ───────────────────────────── analysis ─────────────────────────────


def _provider_tools(resources: Resources, providers: list[str], known: dict[str, Any]) -> tuple[list[BaseTool], Any]:
    """Tools for configured providers whose facts about the seller are not already in the state (the
    graph may have enriched the seller alongside the site read). Clients are per run, like the graph's
    own (``graph.nodes._providers``), sharing its response cache: a repeated lookup spends no credit."""
    settings = resources.settings
    wanted = [p.lower() for p in providers if p.lower() not in known]
    if not wanted or (settings.apollo_api_key is None and settings.clearbit_api_key is None):
        return [], None
    from graph.nodes._providers import open_clients
    from tools.provider_tools import TOOLS

    clients = open_clients(resources, wanted)
    tools = [t for t in TOOLS(clients) if t.name in ANALYSIS_TOOLS]
    return tools, clients


def _facts(result: Any) -> dict[str, Any]:
    record = result.get("record") if isinstance(result, dict) else None
    if not isinstance(record, dict):
        return {}
    return {k: v for k, v in record.items() if k in PROVIDER_FACTS and v not in (None, "", [], {})}


async def _run_tools(
    message: AIMessage, tools: list[BaseTool], domain: str, max_calls: int
) -> tuple[list[BaseMessage], dict[str, Any]]:
    """Execute at most ``max_calls`` of the requested tool calls, always on the seller's own domain."""
    by_name = {t.name: t for t in tools}
    calls = [c for c in message.tool_calls if c["name"] in by_name][:max_calls]
    replies: list[BaseMessage] = [message.model_copy(update={"tool_calls": calls})]
    evidence: dict[str, Any] = {}
    for call in calls:
        # the model may only look up the seller: a page cannot make it spend credits on other domains
        result = await by_name[call["name"]].ainvoke({"domain": domain})
        text = json.dumps(result, ensure_ascii=False, default=str) if not isinstance(result, str) else result
        replies.append(ToolMessage(text[: int(TOOL_RESULT_TOKENS * CHARS_PER_TOKEN)], tool_call_id=call["id"] or ""))
        facts = _facts(result)
        if facts:
            evidence[call["name"].split("_", 1)[0]] = facts
    return replies, evidence


async def _analyze(
    resources: Resources, model: str, state: BlueprintState, company: Company, market: MarketSignals, kb: Any
) -> Refined[tuple[Company, MarketSignals]]:
    request = request_of(state)
    llm, redactor = chat_model(resources, model), redactor_of(resources)
    known = state.get("provider_evidence") or {}
    tools, clients = _provider_tools(resources, list(request.options.providers), known)
    plan = budgets(resources.settings, tools=bool(tools))
    messages: list[BaseMessage] = list(analysis_messages(
        state.get("site"), company, market, kb, request.icp,
        max_tokens=plan.analysis_tokens, max_tool_calls=plan.tool_calls, provider_facts=known))
    usage = LLMUsage()
    updates: dict[str, Any] = {}
    try:
        if plan.tool_calls:
            specs = [convert_to_openai_tool(t, strict=True) for t in tools]
            first = await complete(llm, messages, AnalysisDraft, tools=specs, redactor=redactor)
            usage = _add(usage, first.usage)
            if first.message.tool_calls:
                replies, evidence = await _run_tools(first.message, tools, request.domain, plan.tool_calls)
                if evidence:
                    updates["provider_evidence"] = {**(state.get("provider_evidence") or {}), **evidence}
                final = await complete(llm, [*messages, *replies], AnalysisDraft,  # no tools: it must answer
                                       redactor=redactor)
                usage = _add(usage, final.usage)
            else:
                final = first
        else:
            final = await complete(llm, messages, AnalysisDraft, redactor=redactor)
            usage = _add(usage, final.usage)
        draft = parse(final, AnalysisDraft)
    except LLMError as exc:
        exc.usage = usage  # type: ignore[attr-defined]  # tokens spent still count in meta.llm
        raise
    finally:
        if clients is not None:
            from graph.nodes._providers import usage_of

            updates["provider_calls"] = usage_of(clients)
            await clients.aclose()
    extra = [str(v) for facts in (updates.get("provider_evidence") or {}).values() for v in facts.values()]
    updated, signals, suggestion, warnings = ground_analysis(draft, company, market, kb,
                                                             corpus_of(state.get("site"), extra))
    updates["resolved_icp"] = suggestion  # resolve_icp merges it under the provided ICP, without a call
    return Refined((updated, signals), usage, warnings, updates)


# ───────────────────────────── sections ─────────────────────────────


async def _section(
    resources: Resources, model: str, node: str, state: BlueprintState, catalog: Section, *,
    kb: Any, candidates: list[Any], limit: int, **_: Any
) -> Refined[Section]:
    if not candidates:  # nothing to choose from: the catalog's (empty) answer stands, no call spent
        return Refined(catalog, LLMUsage())
    plan = budgets(resources.settings, tools=False)
    targeting = state.get("targeting")
    max_new = MAX_NEW_OPEN_WORLD if targeting is not None and targeting.open_world else MAX_NEW
    messages, _kept = section_messages(node, state["company"], state.get("resolved_icp"), candidates, kb,
                                       limit=limit, max_tokens=plan.section_tokens, max_new=max_new)
    completion = await complete(chat_model(resources, model), messages, SectionDraft,
                                  redactor=redactor_of(resources))
    draft = parse(completion, SectionDraft)
    extra = [str(v) for facts in (state.get("provider_evidence") or {}).values() if isinstance(facts, dict)
             for v in facts.values()]
    corpus = corpus_of(state.get("site"), extra)
    section, warnings = ground_section(node, draft, candidates, kb, corpus, limit, max_new, targeting)
    return Refined(section, completion.usage, warnings)
