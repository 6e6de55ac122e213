"""agentcore_sandbox: a first-party agentcore plugin."""
