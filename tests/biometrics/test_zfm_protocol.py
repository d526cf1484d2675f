"""ZFM framing, checksums, resynchronisation and each client error, over an in-memory link to the
simulated module (no pty, no timing)."""

from __future__ import annotations

import numpy as np
import pytest

from biometrics.errors import ImageFormatError
from biometrics.scanner import open_scanner
from biometrics.scanner_errors import (
    ChecksumError,
    ScannerAuthError,
    ScannerCommandError,
    ScannerConfigError,
    ScannerDisconnected,
    ScannerNotFound,
    ScannerProtocolError,
    ScannerTimeout,
)
from biometrics.zfm.client import ZfmClient
from biometrics.zfm.codes import CHAR_FILE_SIZE, Confirmation, Instruction, PacketType
from biometrics.zfm.image import PACKED_SIZE, fit_to_sensor, pack_image, unpack_image
from biometrics.zfm.packets import Packet, PacketParser, encode
from simulators.scanner.glass import Glass
from simulators.scanner.module import ZfmModule

# The handshake for password 0 as the module manuals print it.
VFY_PWD_ZERO = bytes.fromhex("EF01FFFFFFFF010007130000000000 1B".replace(" ", ""))


class ModuleLink:
    """A byte link wired straight to a simulated module, with knobs for line trouble."""

    def __init__(self, module: ZfmModule) -> None:
        self.module = module
        self.timeout: float | None = None
        self._parser = PacketParser()
        self._out = bytearray()
        self.noise = b""  # sent before the next reply
        self.corrupt_next = False
        self.mute = False
        self.broken = False
        self.raw_reply: bytes | None = None  # replaces the next reply entirely

    @property
    def in_waiting(self) -> int:
        return len(self._out)

    def write(self, data: bytes) -> int:
        if self.broken:
            raise OSError(5, "Input/output error")
        self._parser.feed(data)
        while (packet := self._parser.next_packet()) is not None:
            replies = b"".join(encode(p) for p in self.module.receive(packet))
            if self.mute or not replies:
                continue
            if self.raw_reply is not None:
                replies, self.raw_reply = self.raw_reply, None
            if self.corrupt_next:
                replies = replies[:-1] + bytes((replies[-1] ^ 0xFF,))
                self.corrupt_next = False
            self._out += self.noise + replies
            self.noise = b""
        return len(data)

    def read(self, size: int = 1) -> bytes:
        if self.broken:
            raise OSError(5, "Input/output error")
        data = bytes(self._out[:size])
        del self._out[:size]
        return data


@pytest.fixture
def glass() -> Glass:
    return Glass()


@pytest.fixture
def link(glass: Glass, tmp_path) -> ModuleLink:
    return ModuleLink(ZfmModule(glass, tmp_path / "bank"))


@pytest.fixture
def client(link: ModuleLink) -> ZfmClient:
    return ZfmClient(link, timeout=0.2)


def finger_image(seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:300, 0:300]
    ridges = 128 + 100 * np.sin((x + 0.3 * y) / 4.0 + rng.random())
    return np.clip(ridges, 0, 255).astype(np.uint8)


# --- framing -----------------------------------------------------------------------------------


def test_handshake_frame_matches_the_manual():
    assert encode(Packet(PacketType.COMMAND, bytes((Instruction.VFY_PWD, 0, 0, 0, 0)))) == VFY_PWD_ZERO


def test_parser_round_trips_every_packet_type_fed_byte_by_byte():
    packets = [Packet(kind, bytes(range(n)), 0x12345678) for kind, n in zip(PacketType, (1, 3, 128, 256), strict=True)]
    parser = PacketParser()
    out = []
    for byte in b"".join(encode(p) for p in packets):
        parser.feed(bytes((byte,)))
        if (packet := parser.next_packet()) is not None:
            out.append(packet)
    assert out == packets
    assert parser.discarded == 0


def test_garbage_before_a_frame_is_skipped_and_counted():
    parser = PacketParser()
    parser.feed(b"\x00\x55\xef\xef\x02" + encode(Packet(PacketType.ACK, b"\x00")))
    assert parser.next_packet() == Packet(PacketType.ACK, b"\x00")
    assert parser.discarded == 5


def test_a_false_start_code_does_not_swallow_the_real_frame():
    # EF 01 followed by an impossible packet type, then the real frame.
    parser = PacketParser()
    parser.feed(b"\xef\x01\xff\xff\xff\xff\x55\x00\x03" + encode(Packet(PacketType.ACK, b"\x09")))
    assert parser.next_packet() == Packet(PacketType.ACK, b"\x09")


def test_bad_checksum_is_reported_and_the_next_frame_still_parses():
    good = encode(Packet(PacketType.ACK, b"\x00\x01"))
    bad = good[:-1] + bytes((good[-1] ^ 1,))
    parser = PacketParser()
    parser.feed(bad + good)
    with pytest.raises(ChecksumError, match="checksum"):
        parser.next_packet()
    assert parser.next_packet() == Packet(PacketType.ACK, b"\x00\x01")


def test_oversized_payload_is_refused():
    with pytest.raises(ValueError, match="at most 256"):
        Packet(PacketType.DATA, bytes(257))


# --- native 4-bit image ------------------------------------------------------------------------


def test_four_bit_image_round_trip_and_nibble_order():
    image = np.zeros((288, 256), np.uint8)
    image[0, 0], image[0, 1] = 255, 17  # left pixel in the high nibble
    data = pack_image(image)
    assert len(data) == PACKED_SIZE == 36864
    assert data[0] == 0xF1
    assert np.array_equal(unpack_image(data), image)


def test_quantisation_error_is_at_most_half_a_level():
    image = np.arange(256, dtype=np.uint8).repeat(288).reshape(256, 288).T.copy()
    restored = unpack_image(pack_image(image))
    assert np.abs(restored.astype(int) - image.astype(int)).max() <= 9


def test_short_image_upload_is_a_clear_error():
    with pytest.raises(ImageFormatError, match="cut short"):
        unpack_image(bytes(100))


def test_fit_to_sensor_crops_the_centre_and_pads_white():
    big = np.zeros((400, 400), np.uint8)
    assert fit_to_sensor(big).shape == (288, 256) and fit_to_sensor(big).max() == 0
    small = np.zeros((100, 100), np.uint8)
    fitted = fit_to_sensor(small)
    assert fitted[0, 0] == 255 and fitted[144, 128] == 0


# --- client over the module --------------------------------------------------------------------


def test_handshake_image_upload_and_system_parameters(client: ZfmClient, glass: Glass):
    client.verify_password()
    params = client.read_sys_para()
    assert (params.packet_size, params.baud, params.address) == (128, 57600, 0xFFFFFFFF)
    assert client.gen_img() is False
    glass.place_image(finger_image())
    assert client.gen_img() is True
    image = client.up_image()
    assert image.shape == (288, 256)
    assert np.abs(image.astype(int) - fit_to_sensor(finger_image()).astype(int)).max() <= 9


def test_char_buffer_download_store_load_upload(client: ZfmClient):
    data = bytes(range(256)) * 2
    client.down_char(1, data)
    client.store(1, 7)
    client.down_char(1, bytes(CHAR_FILE_SIZE))
    client.load_char(2, 7)
    assert client.up_char(2) == data
    assert client.template_count() == 1
    assert client.read_index_table(0)[7] is True
    client.delete_char(7)
    assert client.template_count() == 0


def test_image_download_lands_in_the_image_buffer(client: ZfmClient):
    image = fit_to_sensor(finger_image(3))
    client.down_image(image)
    assert np.array_equal(client.up_image(), unpack_image(pack_image(image)))


def test_smaller_packet_size_still_reassembles(client: ZfmClient, glass: Glass):
    from biometrics.zfm.codes import Register

    client.write_reg(Register.PACKET_SIZE, 0)  # 32-byte data packets
    glass.place_image(finger_image())
    client.gen_img()
    assert client.up_image().shape == (288, 256)
    assert client.read_sys_para().packet_size == 32


def test_wrong_password_is_an_auth_error(link: ModuleLink, client: ZfmClient):
    client.set_password(0x1234)
    locked = ZfmClient(link, password=0x9999, timeout=0.2)
    link.module.power_cycle()
    with pytest.raises(ScannerAuthError, match="password"):
        locked.verify_password()
    with pytest.raises(ScannerAuthError, match="verified first"):
        locked.template_count()
    ZfmClient(link, password=0x1234, timeout=0.2).verify_password()


def test_silent_module_times_out_with_advice(link: ModuleLink, client: ZfmClient):
    link.mute = True
    with pytest.raises(ScannerTimeout, match="baud rate"):
        client.verify_password()
    link.mute = False
    client.verify_password()  # recovers once the module answers again


def test_corrupted_reply_is_a_checksum_error_and_the_next_command_works(link: ModuleLink, client: ZfmClient):
    link.corrupt_next = True
    with pytest.raises(ChecksumError):
        client.template_count()
    assert client.template_count() == 0


def test_garbage_before_the_reply_is_tolerated(link: ModuleLink, client: ZfmClient):
    link.noise = b"\x00\xff\x13\xef"
    assert client.template_count() == 0
    assert client.discarded_bytes == 4


def test_pulled_cable_is_a_disconnect(link: ModuleLink, client: ZfmClient):
    link.broken = True
    with pytest.raises(ScannerDisconnected, match="cable"):
        client.template_count()


def test_unexpected_packet_type_is_a_protocol_error(link: ModuleLink, client: ZfmClient):
    link.raw_reply = encode(Packet(PacketType.DATA, b"\x00\x00\x00"))
    with pytest.raises(ScannerProtocolError, match="instead of an acknowledgement"):
        client.template_count()
    assert client.template_count() == 0


def test_module_failure_codes_become_command_errors(client: ZfmClient):
    with pytest.raises(ScannerCommandError) as info:
        client.load_char(1, 3)  # empty slot
    assert info.value.code == Confirmation.TEMPLATE_READ_ERROR
    with pytest.raises(ScannerCommandError, match="outside the library"):
        client.store(1, 5000)
    with pytest.raises(ScannerCommandError, match="no valid image"):
        client.img2tz(1)


def test_malformed_and_unknown_commands_get_codes_not_silence(link: ModuleLink, client: ZfmClient):
    assert client.command(Instruction.STORE, b"\x01")[0] == Confirmation.PACKET_ERROR
    assert client.command(Instruction.HIGH_SPEED_SEARCH)[0] == Confirmation.PACKET_ERROR
    link.write(encode(Packet(PacketType.COMMAND, b"\x77")))  # no such instruction
    parser = PacketParser()
    parser.feed(link.read(64))
    assert parser.next_packet() == Packet(PacketType.ACK, bytes((Confirmation.UNSUPPORTED,)))


# --- config strings ----------------------------------------------------------------------------


def test_registry_names_the_valid_choices():
    with pytest.raises(ScannerConfigError, match=r"'zfm:…'.*'libfprint:…'|'libfprint:…'.*'zfm:…'"):
        open_scanner("usb:3")
    with pytest.raises(ScannerConfigError, match="valid choices"):
        open_scanner("/dev/ttyUSB0")


def test_zfm_config_errors_are_clear(tmp_path):
    with pytest.raises(ScannerConfigError, match="needs a serial port"):
        open_scanner("zfm:")
    with pytest.raises(ScannerConfigError, match="unknown zfm scanner option"):
        open_scanner("zfm:/dev/ttyUSB9?speed=9600")
    with pytest.raises(ScannerConfigError, match="not a number"):
        open_scanner("zfm:/dev/ttyUSB9?password=secret")
    with pytest.raises(ScannerNotFound, match="no fingerprint module at"):
        open_scanner(f"zfm:{tmp_path / 'ttyUSB9'}")
