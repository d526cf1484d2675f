"""cardlib."""
