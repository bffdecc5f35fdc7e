"""Project groups: formation, membership, and the size rules."""
