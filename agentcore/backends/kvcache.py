"""Prefix KV-cache reuse: each step of a conversation prefills only the tokens the last step did not see.

After a call, the backend keeps the token ids it processed (prompt + generated) together with the model's
``DynamicCache``. The next prompt of the same run starts with those tokens (the conversation so far), so
the cache is cropped to the longest common prefix and only the new tail (tool results, feedback) is
prefilled. No session id is needed: the pool keeps a few recent entries and picks the one sharing the
longest prefix, so concurrent conversations on one model each find their own.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class CacheEntry:
    ids: list[int]  # tokens whose keys/values the cache holds (a prefix of them, see ``cache.get_seq_length``)
    cache: Any


def common_prefix(a: list[int], b: list[int]) -> int:
    """Length of the longest common prefix of two id lists."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


class PrefixCache:
    """A small pool of KV caches keyed by the token ids they hold; thread-safe.

    ``take`` removes the best entry (a cache is mutated by the next generation, so it is never shared) and
    returns it cropped; ``put`` stores the cache of a finished call, evicting the oldest past ``max_entries``.
    """

    def __init__(self, max_entries: int = 4, min_reuse: int = 16) -> None:
        self.max_entries = max_entries
        self.min_reuse = min_reuse
        self._entries: list[CacheEntry] = []
        self._lock = threading.Lock()

    def take(self, ids: list[int]) -> tuple[Any | None, int]:
        """A cache holding the first ``n`` tokens of ``ids`` (``n < len(ids)``), and ``n``; ``(None, 0)`` if none."""
        with self._lock:
            best, best_len = None, 0
            for entry in self._entries:
                length = min(common_prefix(entry.ids, ids), entry.cache.get_seq_length(), len(ids) - 1)
                if length > best_len:
                    best, best_len = entry, length
            if best is None or best_len < self.min_reuse:
                return None, 0
            self._entries.remove(best)
        try:
            extra = best.cache.get_seq_length() - best_len
            if extra > 0:
                best.cache.crop(-extra)  # transformers 5: a negative count removes that many trailing tokens
        except (AttributeError, NotImplementedError, ValueError):
            return None, 0  # a cache type that cannot be cropped (e.g. sliding-window layers): prefill all
        return best.cache, best_len

    def put(self, ids: list[int], cache: Any) -> None:
        if cache is None or self.max_entries <= 0:
            return
        with self._lock:
            self._entries.append(CacheEntry(list(ids), cache))
            while len(self._entries) > self.max_entries:
                self._entries.pop(0)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
