"""What reading a seller's website yields: pages with the parts the analysis needs.

These models are the contract between ``tools.website`` (fetching + extraction) and the analysis.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = ["Link", "Page", "PageKind", "SiteSnapshot"]

PageKind = Literal[
    "home", "about", "product", "solutions", "customers", "integrations", "pricing", "partners", "other"
]


class Link(BaseModel):
    url: str
    text: str = ""


class Page(BaseModel):
    url: str
    kind: PageKind = "other"
    status: int = 200
    title: str = ""
    meta_description: str = ""
    site_name: str = Field(default="", description="og:site_name or the brand part of the title.")
    headings: list[str] = Field(default_factory=list, description="h1-h3 text in document order.")
    text: str = Field(default="", description="Visible main text without nav/footer/cookie noise, capped.")
    links: list[Link] = Field(default_factory=list, description="Same-site links (absolute URLs).")
    integrations: list[str] = Field(default_factory=list, description="Named tools the seller plugs into.")
    customers: list[str] = Field(default_factory=list, description="Customer names (logos alt text, case studies).")
    testimonials: list[str] = Field(default_factory=list, description="Quotes with attribution when present.")
    pricing_hints: list[str] = Field(default_factory=list, description="Plan names, per-seat/per-location prices.")


class SiteSnapshot(BaseModel):
    url: str = Field(description="The URL as requested.")
    final_url: str = Field(description="Where the homepage landed after redirects.")
    domain: str
    pages: list[Page] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list, description="Pages that failed, as 'url: reason'.")

    @property
    def home(self) -> Page | None:
        return self.pages[0] if self.pages else None

    def word_count(self) -> int:
        return sum(len(p.text.split()) for p in self.pages)
