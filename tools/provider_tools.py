"""LangChain tool wrappers over the Apollo and Clearbit clients, for the LLM engine.

Thin adapters: they call the client, return JSON-safe dicts (the typed record, without the raw
response) and turn provider failures into a ``ToolException`` whose text is the user-safe error
message, so an agent sees "Apollo rate limit reached" rather than a stack trace (never a key).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from langchain_core.tools import BaseTool, StructuredTool, ToolException
from pydantic import BaseModel, Field

from tools.errors import BlueprintError
from tools.providers import ProviderClients

__all__ = ["TOOLS"]


class DomainArgs(BaseModel):
    domain: str = Field(description="The company's website domain, e.g. acme.com")


class DomainsArgs(BaseModel):
    domains: list[str] = Field(description="Company website domains (any number; sent 10 per call)",
                               min_length=1, max_length=25)


class PersonArgs(BaseModel):
    email: str | None = Field(default=None, description="Work email address")
    name: str | None = Field(default=None, description="Full name (with domain or organization_name)")
    domain: str | None = Field(default=None, description="Company domain")
    organization_name: str | None = Field(default=None, description="Company name")
    linkedin_url: str | None = Field(default=None, description="LinkedIn profile URL")


class EmailArgs(BaseModel):
    email: str = Field(description="Work email address")


def _record(model: BaseModel | None) -> dict[str, Any]:
    return {"found": False} if model is None else {"found": True, "record": model.model_dump(mode="json")}


def _tool(name: str, description: str, args: type[BaseModel],
          run: Callable[..., Awaitable[dict[str, Any]]]) -> BaseTool:
    async def guarded(**kwargs: Any) -> dict[str, Any]:
        try:
            return await run(**kwargs)
        except BlueprintError as exc:  # only our own, already user-safe, errors become tool messages
            raise ToolException(f"{exc.code}: {exc.message}") from exc

    return StructuredTool.from_function(coroutine=guarded, name=name, description=description,
                                        args_schema=args, handle_tool_error=True)


def TOOLS(clients: ProviderClients) -> list[BaseTool]:  # upper-case: the documented tools.TOOLS
    """The tools for the configured providers (none without keys)."""
    tools: list[BaseTool] = []
    apollo, clearbit = clients.apollo, clients.clearbit
    if apollo is not None:
        async def apollo_org(domain: str) -> dict[str, Any]:
            return _record(await apollo.enrich_organization(domain))

        async def apollo_bulk(domains: list[str]) -> dict[str, Any]:
            found = await apollo.bulk_enrich_organizations(domains)
            return {d: _record(org) for d, org in found.items()}

        async def apollo_person(**kwargs: Any) -> dict[str, Any]:
            return _record(await apollo.match_person(**kwargs))

        tools += [
            _tool("apollo_enrich_organization", "Apollo firmographics and technologies for one company "
                  "domain (1 credit when found).", DomainArgs, apollo_org),
            _tool("apollo_bulk_enrich_organizations", "Apollo organization records for several domains "
                  "(1 credit per company found).", DomainsArgs, apollo_bulk),
            _tool("apollo_match_person", "Apollo person match by email, LinkedIn URL, or name plus "
                  "company (1 credit when matched).", PersonArgs, apollo_person),
        ]
    if clearbit is not None:
        async def clearbit_company(domain: str) -> dict[str, Any]:
            return _record(await clearbit.find_company(domain))

        async def clearbit_person(email: str) -> dict[str, Any]:
            return _record(await clearbit.find_person(email))

        tools += [
            _tool("clearbit_find_company", "Clearbit company record (category, metrics, tech) for a "
                  "domain.", DomainArgs, clearbit_company),
            _tool("clearbit_find_person", "Clearbit person record (employment, role) for a work email.",
                  EmailArgs, clearbit_person),
        ]
    return tools
