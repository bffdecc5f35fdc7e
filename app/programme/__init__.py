"""Week 16: the presentation programme, poster boards and ballots."""
