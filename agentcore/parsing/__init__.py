"""Parsing raw Qwen model output: reasoning, content and tool calls (per call, leniently), a streaming
parser whose events add up to the same result, and final-answer extraction for math.

Public API: :func:`parse_output`, :class:`ParsedOutput`, :class:`ParseProblem`, :class:`StreamParser`,
:func:`extract_final_answer`, :class:`FinalAnswerResult`.
"""

from agentcore.parsing.answers import FinalAnswerResult, extract_final_answer
from agentcore.parsing.output import ParsedOutput, ParseProblem, join_text, parse_output
from agentcore.parsing.reasoning import split_reasoning
from agentcore.parsing.stream import StreamParser

__all__ = [
    "parse_output",
    "ParsedOutput",
    "ParseProblem",
    "StreamParser",
    "extract_final_answer",
    "FinalAnswerResult",
    "join_text",
    "split_reasoning",
]
