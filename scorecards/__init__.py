"""Scorecards: scoring rules, renderers, run history."""
