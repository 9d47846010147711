"""Graph nodes, one file each. A node is ``async def name(state, runtime) -> dict`` returning only the
keys it sets; the node's name is also its state key (for sections), prompt file and stream event."""
