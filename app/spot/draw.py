"""The verifiable draw of officers for a spot session (algorithm "yingzhi-draw-v1"): pure functions.

Anyone can recompute a draw from what the session publishes, with nothing but SHA-256:

1. Roster: the eligible officers as lines "<police number>\\t<user id>", sorted by police number
   (as Python compares strings, i.e. by code point), joined with "\\n". roster_hash = SHA-256 of
   that text in UTF-8, hex. It is fixed and shown when the session is created, before the draw.
2. Seed: 32 random bytes as 64 hex digits, chosen by the server at creation and kept secret;
   seed_commitment = SHA-256 of the 64-character hex text (ASCII), hex, shown at creation.
3. Draw: each officer's key = SHA-256("<seed>:<police number>") as hex; officers sorted by key
   (ties, which SHA-256 makes practically impossible, by police number); the first `count` are
   drawn, in that order. After the draw the seed is revealed.

Because the roster and the commitment are shown before the draw, the server cannot pick a seed
(or a roster) that favours anyone afterwards without the published hashes failing to match.
"""

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

ALGORITHM = "yingzhi-draw-v1"


@dataclass(frozen=True)
class RosterEntry:
    police_number: str
    user_id: int


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    expected: str
    actual: str


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_seed() -> str:
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    return sha256_hex(seed)


def ordered(roster: Sequence[RosterEntry]) -> list[RosterEntry]:
    return sorted(roster, key=lambda entry: entry.police_number)


def roster_text(roster: Sequence[RosterEntry]) -> str:
    return "\n".join(f"{entry.police_number}\t{entry.user_id}" for entry in ordered(roster))


def roster_hash(roster: Sequence[RosterEntry]) -> str:
    return sha256_hex(roster_text(roster))


def draw_key(seed: str, police_number: str) -> str:
    return sha256_hex(f"{seed}:{police_number}")


def draw(roster: Sequence[RosterEntry], seed: str, count: int) -> list[str]:
    """The police numbers drawn, in draw order (all of them when count ≥ the roster)."""
    ranked = sorted(
        ordered(roster), key=lambda entry: (draw_key(seed, entry.police_number), entry.police_number)
    )
    return [entry.police_number for entry in ranked[: max(count, 0)]]


def verify(
    *,
    roster: Sequence[RosterEntry],
    seed: str,
    count: int,
    published_commitment: str,
    published_roster_hash: str,
    published_drawn: Sequence[str],
) -> list[Check]:
    """Recompute everything from the published inputs; every check must hold."""
    recomputed = draw(roster, seed, count)
    return [
        Check(
            "seed_commitment",
            commitment(seed) == published_commitment,
            published_commitment,
            commitment(seed),
        ),
        Check(
            "roster_hash",
            roster_hash(roster) == published_roster_hash,
            published_roster_hash,
            roster_hash(roster),
        ),
        Check("drawn", list(published_drawn) == recomputed, ",".join(published_drawn), ",".join(recomputed)),
    ]
