"""Collaborative poem games: pure rules (``rules``, ``model``), and the service that stores
each move, keeps the deadlines in the clock and has the AI play through the write flow."""
