"""The compiled graph, as a module attribute for ``langgraph.json`` (``./graph/compiled.py:graph``).

Importing this module compiles the graph (no I/O, no clients); ``from graph import graph`` does it lazily.
"""

from graph.builder import build_graph
from graph.nodes.coverage import coverage

graph = build_graph(coverage=coverage)
