"""Answers: the sentences that answer, and whether the corpus answers at all."""
