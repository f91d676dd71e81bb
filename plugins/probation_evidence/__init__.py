"""Probation Evidence Pipeline: provider systems to warehouse to evidence packs."""

__version__ = "0.1.0"
