"""keymgmt."""
