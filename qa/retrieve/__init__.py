"""Retrieval: the question resolved and re-spelled, then dense and lexical search fused."""
