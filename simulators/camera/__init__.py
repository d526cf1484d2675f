"""Camera simulator: synthetic faces (steerable, with faults) and folder playback, as ``sim:`` cameras.

Importing this package registers the ``sim`` scheme in :mod:`biometrics.camera`'s registry.
"""

from __future__ import annotations

from biometrics.camera import register_backend
from simulators.camera.backends import (
    CameraControl,
    CameraState,
    FaceCamera,
    FolderCamera,
    camera_control,
    open_sim_camera,
)
from simulators.camera.faces import person_seed, portrait
from simulators.camera.scenes import CameraFault, scene

__all__ = [
    "CameraControl",
    "CameraFault",
    "CameraState",
    "FaceCamera",
    "FolderCamera",
    "camera_control",
    "person_seed",
    "portrait",
    "scene",
]

register_backend("sim", open_sim_camera)
