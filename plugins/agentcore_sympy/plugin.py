"""Hook implementations of agentcore_sympy (filled in by its issue)."""
