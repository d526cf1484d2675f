"""The stages of fingerprint feature extraction, one module per stage, each named for what it produces.

``biometrics.pipeline.extract`` chains them; read it first. Every stage works at the engine's working
resolution (500 dpi) on the output types defined beside it (frozen dataclasses of NumPy arrays).
"""
