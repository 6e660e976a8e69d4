"""Real venues behind the engine's feed and gateway interfaces (no Django here)."""
