"""Deterministic, documented randomness that anyone can recompute from a seed.

Python's `random` may change between versions, so draws that must be reproducible on appeal
(papers, spot-session selections) use this instead:

    block k   = SHA-256(utf8(seed + ":" + label + ":" + str(k)))       for k = 0, 1, 2, ...
    the stream is the blocks' bytes, read 8 at a time as big-endian unsigned 64-bit integers
    randbelow(n): let w be the fewest 64-bit words with 2**(64*w) >= n; take the next w integers as
    one big-endian number x; if x >= floor(2**(64*w) / n) * n, discard it and take another (no
    modulo bias); else return x mod n
    shuffle(items): Fisher-Yates, for i from len-1 down to 1: j = randbelow(i + 1); swap i, j
"""

import hashlib
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")

_U64 = 2**64


class HashStream:
    def __init__(self, seed: str, label: str) -> None:
        self._prefix = f"{seed}:{label}:"
        self._counter = 0
        self._buffer = b""

    def _next_u64(self) -> int:
        if len(self._buffer) < 8:
            block = hashlib.sha256(f"{self._prefix}{self._counter}".encode()).digest()
            self._counter += 1
            self._buffer += block
        value = int.from_bytes(self._buffer[:8], "big")
        self._buffer = self._buffer[8:]
        return value

    def randbelow(self, n: int) -> int:
        if n <= 0:
            raise ValueError("n must be positive")
        words = max(1, -(-((n - 1).bit_length()) // 64))
        span = _U64**words
        limit = (span // n) * n
        while True:
            x = 0
            for _ in range(words):
                x = (x << 64) | self._next_u64()
            if x < limit:
                return x % n

    def shuffle(self, items: Sequence[T]) -> list[T]:
        result = list(items)
        for i in range(len(result) - 1, 0, -1):
            j = self.randbelow(i + 1)
            result[i], result[j] = result[j], result[i]
        return result


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
