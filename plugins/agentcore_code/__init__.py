"""agentcore_code: a first-party agentcore plugin."""
