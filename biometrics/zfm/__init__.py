"""The ZhianTec ZFM serial fingerprint-module protocol (R30x, R503, AS608): framing, commands, backend.

``packets`` frames bytes, ``client`` speaks the commands, ``backend`` makes a module a ``Scanner``.
"""
