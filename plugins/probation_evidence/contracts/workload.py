"""Contracts of the workload source family (to be filled in)."""

from __future__ import annotations

CONTRACTS: tuple = ()
