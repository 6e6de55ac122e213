"""Hook implementations of agentcore_code (filled in by its issue)."""
