"""The engine's durable record: orders, fills, positions, equity, audit and recovery state."""
