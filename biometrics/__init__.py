"""biometrics."""
