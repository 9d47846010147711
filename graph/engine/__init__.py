"""Reasoning engines. ``catalog`` (offline, knowledge-base driven) lives here; ``llm`` builds on it."""
