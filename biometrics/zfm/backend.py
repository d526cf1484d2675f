"""``zfm:<port>[?baud=57600&password=0x0&address=0xFFFFFFFF]``: a ZhianTec serial module as a Scanner.

The port is opened lazily again after any link failure, so a station survives a pulled and replugged
cable: the call that hits the failure raises ``ScannerDisconnected``, a later call reopens the port and
redoes the handshake.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from urllib.parse import parse_qs

import serial

from biometrics.scanner import DEFAULT_TIMEOUT, CapturedImage, DeviceInfo, Scanner
from biometrics.scanner_errors import (
    ScannerConfigError,
    ScannerDisconnected,
    ScannerNotFound,
    ScannerProtocolError,
    ScannerTimeout,
)
from biometrics.zfm.client import SystemParameters, ZfmClient
from biometrics.zfm.codes import (
    DEFAULT_ADDRESS,
    DEFAULT_BAUD,
    DEFAULT_PASSWORD,
    IMAGE_DPI,
    IMAGE_HEIGHT,
    IMAGE_WIDTH,
)

POLL_INTERVAL = 0.05  # seconds between GenImg attempts while waiting for a finger


def _number(text: str, name: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise ScannerConfigError(f"zfm scanner option {name}={text!r} is not a number (use e.g. 0x1234)") from None


def open_zfm(rest: str) -> ZfmScanner:
    port, _, query = rest.partition("?")
    if not port:
        raise ScannerConfigError("a zfm scanner needs a serial port, e.g. 'zfm:/dev/ttyUSB0'")
    options = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
    unknown = set(options) - {"baud", "password", "address", "timeout"}
    if unknown:
        raise ScannerConfigError(
            f"unknown zfm scanner option(s) {', '.join(sorted(unknown))}; valid: baud, password, address, timeout"
        )
    return ZfmScanner(
        port,
        baud=_number(options.get("baud", str(DEFAULT_BAUD)), "baud"),
        password=_number(options.get("password", str(DEFAULT_PASSWORD)), "password"),
        address=_number(options.get("address", str(DEFAULT_ADDRESS)), "address"),
        timeout=float(options.get("timeout", "2.0")),
    )


class ZfmScanner(Scanner):
    """A ZFM module on a serial port (USB-serial adapter, UART, or the simulator's pty)."""

    def __init__(
        self,
        port: str,
        baud: int = DEFAULT_BAUD,
        password: int = DEFAULT_PASSWORD,
        address: int = DEFAULT_ADDRESS,
        timeout: float = 2.0,
    ) -> None:
        self.port = port
        self.baud = baud
        self.password = password
        self.address = address
        self.timeout = timeout
        self._serial: serial.Serial | None = None
        self._client: ZfmClient | None = None
        self.params: SystemParameters | None = None
        self._connect()  # fail at open time if the device is missing or refuses the password

    # --- link management ---------------------------------------------------------------------

    def _connect(self) -> ZfmClient:
        try:
            link = serial.Serial(self.port, self.baud, timeout=0.25, write_timeout=self.timeout)
        except serial.SerialException as exc:
            err = exc.errno if isinstance(exc.errno, int) else None
            if err == errno.EACCES:
                raise ScannerNotFound(
                    f"no permission to open {self.port}; add the station user to the 'dialout' group "
                    "(see docs/devices-scanners.md)"
                ) from exc
            if err in (errno.ENOENT, errno.ENXIO, errno.ENODEV) or not os.path.exists(self.port):
                raise ScannerNotFound(
                    f"no fingerprint module at {self.port}; plug in the scanner or fix the port in the config"
                ) from exc
            raise ScannerDisconnected(f"could not open {self.port}; replug the scanner and retry") from exc
        client = ZfmClient(link, self.address, self.password, self.timeout)
        try:
            client.verify_password()
            self.params = client.read_sys_para()
        except BaseException:
            link.close()
            raise
        self._serial, self._client = link, client
        return client

    def _drop(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError):  # the port is already gone; nothing left to release
                self._serial.close()
        self._serial = self._client = None

    @property
    def module(self) -> ZfmClient:
        """The connected module's command set (library store/search/match), reconnecting if needed."""
        return self._client if self._client is not None else self._connect()

    def _call(self, fn):
        """Run one exchange; a garbled reply is retried once (every command we send is idempotent)."""
        for attempt in range(2):
            client = self.module
            try:
                return fn(client)
            except ScannerDisconnected:
                self._drop()
                raise
            except ScannerProtocolError:  # includes ChecksumError; the client resyncs before retrying
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._drop()

    # --- Scanner -----------------------------------------------------------------------------

    def device_info(self) -> DeviceInfo:
        params = self._call(lambda c: c.read_sys_para())
        self.params = params
        return DeviceInfo(
            backend="zfm",
            model="ZhianTec ZFM-compatible fingerprint module",
            identifier=self.port,
            width=IMAGE_WIDTH,
            height=IMAGE_HEIGHT,
            dpi=IMAGE_DPI,
            details=(
                ("library_size", str(params.library_size)),
                ("security_level", str(params.security_level)),
                ("address", f"0x{params.address:08X}"),
                ("packet_size", str(params.packet_size)),
                ("baud", str(params.baud)),
            ),
        )

    def _poll(self, want_finger: bool, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self._call(lambda c: c.gen_img()) == want_finger:
                return
            if time.monotonic() + POLL_INTERVAL > deadline:
                raise ScannerTimeout(
                    f"no finger was placed on the scanner within {timeout:g} s; ask for the finger again"
                    if want_finger
                    else f"the finger stayed on the scanner for {timeout:g} s; ask for it to be lifted"
                )
            time.sleep(POLL_INTERVAL)

    def wait_for_finger(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._poll(True, timeout)

    def wait_for_finger_removed(self, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._poll(False, timeout)

    def capture_image(self, timeout: float = DEFAULT_TIMEOUT) -> CapturedImage:
        self._poll(True, timeout)  # a successful GenImg leaves the image in the module's buffer
        pixels = self._call(lambda c: c.up_image())
        return CapturedImage(pixels, IMAGE_DPI)
