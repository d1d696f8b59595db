"""Kestrel 客隼 — customer management driven by written policy."""

__version__ = "0.1.0"
