"""One clock for every feature that acts later: turn timeouts, daily prompts, sprints."""
