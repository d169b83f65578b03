"""Judgement: which ballot number a hand sign points at under an election, and the photo's verdict."""
