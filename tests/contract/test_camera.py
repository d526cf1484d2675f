"""One contract for every Camera backend (sim:faces, sim:folder, opencv when a webcam is present),
then what is particular to each backend and to the registry."""

from __future__ import annotations

import glob
import json

import cv2
import numpy as np
import pytest

import simulators  # noqa: F401 - registers the sim: camera backend
from biometrics.camera import (
    Camera,
    CameraClosed,
    CameraConfigError,
    CameraNotFound,
    CameraReadError,
    Frame,
    available_backends,
    open_camera,
    register_backend,
)
from simulators.camera import CameraControl, CameraFault, camera_control, portrait


def _webcam() -> str | None:
    for device in sorted(glob.glob("/dev/video*")):
        try:
            open_camera(f"opencv:{device}").close()
        except Exception:
            continue
        return f"opencv:{device}"
    return None


@pytest.fixture(scope="module")
def portrait_folder(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("portraits")
    for i in range(3):
        cv2.imwrite(str(folder / f"member-{i}.png"), portrait(100 + i))
    (folder / "notes.txt").write_text("not a picture: ignored")
    return str(folder)


@pytest.fixture(scope="module")
def video_file(tmp_path_factory) -> str:
    """A recorded webcam stream: OpenCV's VideoCapture plays it through the same opencv: backend."""
    path = tmp_path_factory.mktemp("video") / "webcam.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (640, 480))
    for i in range(20):  # each contract test reads 5 warm-up frames and at most 5 more
        writer.write(portrait(7, i))
    writer.release()
    return str(path)


@pytest.fixture(params=["sim:faces", "sim:folder", "opencv:<video file>", "opencv"])
def camera(request, portrait_folder, video_file):
    if request.param == "sim:folder":
        config = f"sim:folder:{portrait_folder}"
    elif request.param == "opencv:<video file>":
        config = f"opencv:{video_file}"
    elif request.param == "opencv":
        config = _webcam()
        if config is None:
            pytest.skip("no webcam attached (/dev/video* missing or not openable)")
    else:
        config = request.param
    cam = open_camera(config)
    yield cam
    cam.close()


# --- the contract -------------------------------------------------------------------------------


def test_open_camera_returns_an_open_camera_that_names_itself(camera: Camera) -> None:
    assert isinstance(camera, Camera) and camera.is_open
    info = camera.device_info()
    assert info.backend == camera.config.split(":")[0]
    assert info.width > 0 and info.height > 0 and info.model and info.identifier


def test_preview_frames_are_bgr_timestamped_and_live(camera: Camera) -> None:
    first = camera.preview_frame()
    assert isinstance(first, Frame)
    assert first.pixels.dtype == np.uint8 and first.pixels.ndim == 3 and first.pixels.shape[2] == 3
    info = camera.device_info()
    assert (first.width, first.height) == (info.width, info.height)
    rest = list(camera.frames(3))
    assert len(rest) == 3
    stamps = [f.timestamp for f in (first, *rest)]
    assert stamps == sorted(stamps)
    assert [f.sequence for f in rest] == [first.sequence + 1, first.sequence + 2, first.sequence + 3]
    # A preview looks live: frames change a little, not wholesale.
    diff = np.abs(rest[0].pixels.astype(int) - rest[1].pixels.astype(int)).mean()
    assert 0 < diff < 12


def test_frames_counts(camera: Camera) -> None:
    assert list(camera.frames(0)) == []
    with pytest.raises(ValueError):
        list(camera.frames(-1))


def test_take_photo_gives_a_frame(camera: Camera) -> None:
    photo = camera.take_photo()
    assert isinstance(photo, Frame) and photo.width >= 64 and photo.height >= 64


def test_photo_from_the_backend_passes_the_card_check(camera: Camera) -> None:
    """End to end per backend: what the camera hands over (colour order, size, compression of a
    recorded stream) is what the photo check was built for, and the portrait fits the card slot."""
    from biometrics.photo import CARD_PHOTO_MAX_BYTES, check_photo

    if camera.device_info().identifier.startswith("/dev/video"):
        pytest.skip("a live webcam shows whoever is in front of it: no face is guaranteed")
    check = check_photo(camera.take_photo())
    assert check.ok, check.reasons
    assert 0 < len(check.jpeg) <= CARD_PHOTO_MAX_BYTES
    assert cv2.imdecode(np.frombuffer(check.jpeg, np.uint8), cv2.IMREAD_COLOR) is not None


def test_closed_camera_refuses_and_reopens(camera: Camera) -> None:
    camera.close()
    camera.close()  # twice is harmless
    assert not camera.is_open
    with pytest.raises(CameraClosed):
        camera.preview_frame()
    with pytest.raises(CameraClosed):
        camera.take_photo()
    camera.open()
    assert camera.preview_frame().sequence == 1


def test_context_manager_closes(camera: Camera) -> None:
    camera.close()
    with camera as cam:
        assert cam.is_open
    assert not camera.is_open


# --- registry -------------------------------------------------------------------------------------


def test_registry_names_the_valid_choices() -> None:
    assert {"opencv", "sim"} <= set(available_backends())
    with pytest.raises(CameraConfigError, match=r"'opencv:…'.*'sim:…'"):
        open_camera("usbcam:0")
    with pytest.raises(CameraConfigError):
        open_camera("no-colon")
    with pytest.raises(ValueError):
        register_backend("not a word", lambda rest: None)  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("config", ["opencv:front", "opencv:0@big", "opencv:0@0x480", "sim:", "sim:thermal"])
def test_malformed_configs_are_refused(config: str) -> None:
    with pytest.raises(CameraConfigError):
        open_camera(config)


def test_opencv_missing_device_says_so() -> None:
    with pytest.raises(CameraNotFound, match=r"no camera at 63.*opencv:"):
        open_camera("opencv:63")
    with pytest.raises(CameraNotFound):
        open_camera("opencv:/dev/video-does-not-exist")


# --- sim:faces --------------------------------------------------------------------------------------


@pytest.fixture
def control():
    ctl = camera_control()
    ctl.reset()
    yield ctl
    ctl.reset()


def test_faces_are_deterministic_per_subject(control: CameraControl) -> None:
    control.set(subject="hh-9/member-1")
    with open_camera("sim:faces") as a, open_camera("sim:faces") as b:
        assert np.array_equal(a.preview_frame().pixels, b.preview_frame().pixels)
        assert np.array_equal(a.take_photo().pixels, b.take_photo().pixels)
        control.set(subject="hh-9/member-2")
        assert not np.array_equal(a.preview_frame().pixels, b.take_photo().pixels)


def test_faults_are_switches_and_reset_clears_them(control: CameraControl) -> None:
    with open_camera("sim:faces") as cam:
        normal = cam.take_photo().pixels.mean()
        control.set(fault=CameraFault.DARK)
        assert cam.device_info().detail("fault") == "dark"
        assert cam.take_photo().pixels.mean() < normal / 3
        control.reset()
        assert cam.device_info().detail("fault") == "none"
    with pytest.raises(ValueError):
        control.set(fault="melted")
    with pytest.raises(ValueError):
        control.set(subject=" ")
    assert control.state.fault is CameraFault.NONE


def test_state_file_steers_a_camera_from_elsewhere(tmp_path) -> None:
    state = tmp_path / "camera.json"
    with open_camera(f"sim:faces:{state}") as cam:
        assert cam.device_info().detail("fault") == "none"  # no file yet: defaults
        CameraControl(state).set(subject="hh-3/member-4", fault="two faces")  # e.g. the demo script
        assert cam.device_info().detail("fault") == "two faces"
        assert json.loads(state.read_text()) == {"subject": "hh-3/member-4", "fault": "two faces"}
        assert not list(tmp_path.glob(".camera-*"))  # atomic write left no temp file
        state.write_text("{not json")
        with pytest.raises(CameraReadError, match="damaged"):
            cam.preview_frame()


# --- sim:folder -------------------------------------------------------------------------------------


def test_folder_plays_pictures_in_order_and_loops(portrait_folder: str) -> None:
    with open_camera(f"sim:folder:{portrait_folder}") as cam:
        assert cam.device_info().detail("pictures") == "3"
        preview = cam.preview_frame()
        photos = [cam.take_photo() for _ in range(4)]
        expected = cv2.imread(f"{portrait_folder}/member-0.png")
        assert np.array_equal(photos[0].pixels, expected)
        assert np.abs(preview.pixels.astype(int) - expected.astype(int)).max() <= 2
        assert np.array_equal(photos[3].pixels, photos[0].pixels)
        assert not np.array_equal(photos[1].pixels, photos[0].pixels)


def test_folder_problems_are_reported(tmp_path) -> None:
    with pytest.raises(CameraNotFound, match="does not exist"):
        open_camera(f"sim:folder:{tmp_path / 'missing'}")
    with pytest.raises(CameraNotFound, match="no pictures"):
        open_camera(f"sim:folder:{tmp_path}")
    (tmp_path / "broken.jpg").write_bytes(b"not a jpeg")
    with open_camera(f"sim:folder:{tmp_path}") as cam, pytest.raises(CameraReadError, match=r"broken\.jpg"):
        cam.take_photo()
