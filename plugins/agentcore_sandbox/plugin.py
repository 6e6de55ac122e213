"""Hook implementations of agentcore_sandbox (filled in by its issue)."""
