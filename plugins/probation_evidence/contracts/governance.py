"""Contracts of the governance source family (to be filled in)."""

from __future__ import annotations

CONTRACTS: tuple = ()
