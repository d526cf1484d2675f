"""The headless demo camp on simulators (also the harness of the end-to-end tests)."""
