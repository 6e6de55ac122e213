"""An example agentcore plugin: the ``roman_numerals`` tool and the ``numerals`` specialist.

The hooks live in :mod:`agentcore_plugin_example.plugin`, the entry point agentcore loads.
"""

__version__ = "0.1.0"
