"""The offline front end: the same commands in a terminal, with no Discord token."""
