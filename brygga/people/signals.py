"""``person_moved``: sent inside the transaction that saves a register refresh in which the person moved to
another municipality (keyword arguments ``person``, ``user``, ``at``). A receiver answers with the ids of the
cases it re-addressed (the cases app, R-INS-7); the people app imports no app above it (ADR 0009)."""

from __future__ import annotations

from django.dispatch import Signal

person_moved = Signal()
