"""Stable random streams for the simulator.

Python's built-in ``hash()`` is salted per process, so seeding from it would make every run different.
Seeds here come from SHA-256 over the parts instead: the same parts give the same stream on any machine,
in any process, which is what makes the simulated provider systems reproducible byte for byte.
"""

from __future__ import annotations

import hashlib
import random


def stable_digest(*parts: object) -> str:
    """Hex SHA-256 of the parts joined by '|', for seeds and pseudonymous identifiers."""
    return hashlib.sha256("|".join(str(part) for part in parts).encode("utf-8")).hexdigest()


def seeded_rng(*parts: object) -> random.Random:
    """A random stream for simulation only (never for secrets), fixed by the parts."""
    return random.Random(int(stable_digest(*parts)[:16], 16))  # noqa: S311
