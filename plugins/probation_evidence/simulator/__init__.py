"""Simulated provider systems: deterministic sources generated from a hidden latent truth.

Modules: ``truth`` (hidden bands per provider and standard), ``staffing`` (HR records generated from the
1.2 band), ``server`` (the staffing REST API over real HTTP). Run ``python -m probation_evidence.simulator``.
"""
