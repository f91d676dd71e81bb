"""Simulated feedback source (to be filled in): generators keyed by entity name.

API_ENTITIES: entity -> generator(seed, period, provider_id, size) -> list[dict], served over HTTP.
FILE_DROPS: entity -> generator with the same signature, written as files by simulator.drops.
"""

from __future__ import annotations

API_ENTITIES: dict = {}
FILE_DROPS: dict = {}
