"""Demo data for the economy: the seed budgets (SHVO 2023, GITS 2025) with their keys. Idempotent."""

from __future__ import annotations

from brygga.economy.seeds import load_seed_budgets


def load_economy_demo() -> int:
    return len(load_seed_budgets())
