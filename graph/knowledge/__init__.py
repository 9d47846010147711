"""The curated knowledge base behind the catalog engine (and the grounding of the LLM engine)."""

from graph.knowledge.base import KnowledgeBase, KnowledgeError, load_knowledge

__all__ = ["KnowledgeBase", "KnowledgeError", "load_knowledge"]
