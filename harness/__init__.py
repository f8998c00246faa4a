"""gamedrill's engine: runs a game-day drill against a stack and times the team."""

__version__ = "0.1.0"
