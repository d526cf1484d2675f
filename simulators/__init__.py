"""simulators: cards, readers, the fingerprint scanner, synthetic fingers and the camera.

Importing this package registers the ``sim:`` backends in the device registries of ``biometrics``
(which may not import us): ``open_camera("sim:faces")`` and ``open_scanner("sim:<name>")``.
"""

from simulators import camera as _camera  # noqa: F401 - registers the sim: camera backend
from simulators.scanner import inprocess as _scanner  # noqa: F401 - registers the sim: scanner backend
