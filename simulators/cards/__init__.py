"""Simulated smart cards: the card-OS framework (``os``) and the card applications built on it."""
