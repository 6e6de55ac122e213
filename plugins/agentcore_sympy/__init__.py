"""agentcore_sympy: a first-party agentcore plugin."""
