"""Writing sprints: timed writing together in a channel, with counts, results and bests."""
