"""Simulated fingerprint scanners: a ZFM serial module on a pty and an in-process ``sim:`` scanner.

Importing this package registers the ``sim:`` backend with ``biometrics.scanner.open_scanner``.
"""

from simulators.scanner import inprocess as _inprocess  # noqa: F401  (registers "sim:")
