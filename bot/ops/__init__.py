"""Running Inkwell for months: Prometheus metrics, the heartbeat behind ``python -m bot
health``, and structured logs (one line per interaction, text or JSON)."""
