"""The simulated ZFM module: command packets in, acknowledge and data packets out.

Transport-free (the pty server feeds it), so its behaviour is tested without a serial link. The
module's flash (template library, password, address, security level, packet size) lives in
``<bank>/module.json`` and survives a restart; writes are atomic (temp file + fsync + rename).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np

from biometrics.zfm.codes import (
    CHAR_FILE_SIZE,
    DEFAULT_ADDRESS,
    DEFAULT_BAUD,
    INDEX_PAGE_BYTES,
    PACKET_SIZES,
    Confirmation,
    Instruction,
    PacketType,
    Register,
)
from biometrics.zfm.image import PACKED_SIZE, fit_to_sensor, pack_image, unpack_image
from biometrics.zfm.packets import Packet
from keymgmt.files import write_atomic
from simulators.scanner.glass import Glass

LIBRARY_SIZE = 300  # slots in the simulated flash library (an R307 has 1000, an AS608 300)
SYSTEM_ID = 0x0009
STATE_FILE = "module.json"

C = Confirmation
log = logging.getLogger(__name__)


def _defaults() -> dict:
    return {"password": 0, "address": DEFAULT_ADDRESS, "security_level": 3, "packet_code": 2,
            "baud_n": DEFAULT_BAUD // 9600, "library": {}}  # fmt: skip


class ZfmModule:
    """One module. ``receive(packet)`` returns the packets the module sends back (possibly none)."""

    def __init__(self, glass: Glass, bank: Path | None = None, library_size: int = LIBRARY_SIZE) -> None:
        self.glass = glass
        self.bank = bank
        self.library_size = library_size
        self.state = self._load()
        self.power_cycle()

    # --- persistence ---------------------------------------------------------------------------

    def _load(self) -> dict:
        state = _defaults()
        path = self.bank / STATE_FILE if self.bank else None
        if path and path.exists():
            saved = json.loads(path.read_text())
            state.update({k: v for k, v in saved.items() if k in state})
        return state

    def _save(self) -> None:
        if self.bank is None:
            return
        write_atomic(self.bank / STATE_FILE, json.dumps(self.state, sort_keys=True).encode())

    @property
    def library(self) -> dict[str, str]:
        return self.state["library"]  # page number (as text) -> char file (hex)

    # --- volatile state ------------------------------------------------------------------------

    def power_cycle(self) -> None:
        """RAM is lost, flash is kept: as after unplugging the module's power."""
        self.image: np.ndarray | None = None
        self.char_buffers = {1: bytes(CHAR_FILE_SIZE), 2: bytes(CHAR_FILE_SIZE)}
        self.verified = self.state["password"] == 0
        self._incoming: tuple[Callable[[bytes], None], bytearray] | None = None

    def reset(self, erase_flash: bool = False) -> None:
        """Known state: RAM cleared; with ``erase_flash`` also factory settings and an empty library."""
        if erase_flash:
            self.state = _defaults()
            self._save()
        self.power_cycle()

    @property
    def address(self) -> int:
        return self.state["address"]

    @property
    def packet_size(self) -> int:
        return PACKET_SIZES[self.state["packet_code"]]

    # --- dispatch ------------------------------------------------------------------------------

    def receive(self, packet: Packet) -> list[Packet]:
        if packet.address != self.address:
            return []  # a module ignores packets addressed to another module
        if packet.kind in (PacketType.DATA, PacketType.END_DATA):
            return self._receive_data(packet)
        if packet.kind != PacketType.COMMAND:
            return []
        self._incoming = None  # a new command abandons an unfinished download
        if not packet.payload:
            return [self._ack(C.PACKET_ERROR)]
        code, args = packet.payload[0], packet.payload[1:]
        try:
            instruction = Instruction(code)
        except ValueError:
            return [self._ack(C.UNSUPPORTED)]
        handler = self._handlers.get(instruction)
        if handler is None:
            return [self._ack(C.UNSUPPORTED)]
        if not self.verified and instruction != Instruction.VFY_PWD:
            return [self._ack(C.PASSWORD_REQUIRED)]
        try:
            return handler(self, args)
        except (IndexError, ValueError):
            return [self._ack(C.PACKET_ERROR)]  # parameters missing or malformed
        except ImportError:
            return [self._ack(C.UNSUPPORTED)]  # this build lacks the fingerprint engine the command needs
        except Exception:
            # A module never goes silent over one bad command: log our bug, answer "execution failed".
            log.exception("simulated ZFM module failed on %s", instruction.name)
            return [self._ack(C.EXECUTION_FAILED)]

    def _ack(self, code: int, data: bytes = b"") -> Packet:
        return Packet(PacketType.ACK, bytes((code,)) + data, self.address)

    def _data_packets(self, data: bytes) -> list[Packet]:
        size = self.packet_size
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        kinds = [PacketType.DATA] * (len(chunks) - 1) + [PacketType.END_DATA]
        return [Packet(k, c, self.address) for k, c in zip(kinds, chunks, strict=True)]

    def _receive_data(self, packet: Packet) -> list[Packet]:
        if self._incoming is None:
            return []  # data nobody asked for: a real module drops it silently
        finish, buffer = self._incoming
        buffer += packet.payload
        if packet.kind == PacketType.END_DATA:
            self._incoming = None
            finish(bytes(buffer))
        return []  # downloads are not acknowledged packet by packet

    @staticmethod
    def _buffer_id(args: bytes) -> int:
        buffer = args[0]
        if buffer not in (1, 2):
            raise ValueError("char buffer must be 1 or 2")
        return buffer

    # --- commands ------------------------------------------------------------------------------

    def _vfy_pwd(self, args: bytes) -> list[Packet]:
        if len(args) < 4:
            raise ValueError("VfyPwd needs a 4-byte password")
        self.verified = int.from_bytes(args[:4], "big") == self.state["password"]
        return [self._ack(C.OK if self.verified else C.WRONG_PASSWORD)]

    def _set_pwd(self, args: bytes) -> list[Packet]:
        self.state["password"] = int.from_bytes(args[:4], "big")
        self._save()
        return [self._ack(C.OK)]

    def _set_addr(self, args: bytes) -> list[Packet]:
        self.state["address"] = int.from_bytes(args[:4], "big")
        self._save()
        return [self._ack(C.OK)]  # sent from the new address, as the modules do

    def _write_reg(self, args: bytes) -> list[Packet]:
        register, value = args[0], args[1]
        limits = {Register.BAUD: (1, 12, "baud_n"), Register.SECURITY_LEVEL: (1, 5, "security_level"),
                  Register.PACKET_SIZE: (0, 3, "packet_code")}  # fmt: skip
        if register not in limits:
            return [self._ack(C.INVALID_REGISTER)]
        low, high, key = limits[Register(register)]
        if not low <= value <= high:
            return [self._ack(C.BAD_REGISTER_CONFIG)]
        self.state[key] = value
        self._save()
        return [self._ack(C.OK)]

    def _read_sys_para(self, args: bytes) -> list[Packet]:
        status = (0b100 if self.verified else 0) | (0b1000 if self.image is not None else 0)
        words = (status, SYSTEM_ID, self.library_size, self.state["security_level"])
        data = b"".join(w.to_bytes(2, "big") for w in words) + self.address.to_bytes(4, "big")
        data += self.state["packet_code"].to_bytes(2, "big") + self.state["baud_n"].to_bytes(2, "big")
        return [self._ack(C.OK, data)]

    def _gen_img(self, args: bytes) -> list[Packet]:
        seen = self.glass.read()
        if seen is None:
            return [self._ack(C.NO_FINGER)]
        self.image = unpack_image(pack_image(fit_to_sensor(seen)))  # what survives the 4-bit sensor
        return [self._ack(C.OK)]

    def _up_image(self, args: bytes) -> list[Packet]:
        if self.image is None:
            return [self._ack(C.UPLOAD_IMAGE_FAIL)]
        return [self._ack(C.OK), *self._data_packets(pack_image(self.image))]

    def _down_image(self, args: bytes) -> list[Packet]:
        def finish(data: bytes) -> None:
            if len(data) == PACKED_SIZE:
                self.image = unpack_image(data)

        self._incoming = (finish, bytearray())
        return [self._ack(C.OK)]

    def _img2tz(self, args: bytes) -> list[Packet]:
        buffer = self._buffer_id(args)
        if self.image is None:
            return [self._ack(C.INVALID_IMAGE)]
        from simulators.scanner import features

        code, char_file = features.extract(self.image)
        if char_file is not None:
            self.char_buffers[buffer] = char_file
        return [self._ack(code)]

    def _templates(self):
        from simulators.scanner import features

        return features, features.decode_char_file(self.char_buffers[1]), features.decode_char_file(
            self.char_buffers[2]
        )

    def _reg_model(self, args: bytes) -> list[Packet]:
        features, a, b = self._templates()
        if a is None or b is None:
            return [self._ack(C.ENROLL_MISMATCH)]
        same, _ = features.module_score(a, b, self.state["security_level"])
        if not same:
            return [self._ack(C.ENROLL_MISMATCH)]
        # our template format holds one impression: keep the richer one as the model, in both buffers
        best = self.char_buffers[1] if len(a.minutiae) >= len(b.minutiae) else self.char_buffers[2]
        self.char_buffers = {1: best, 2: best}
        return [self._ack(C.OK)]

    def _match(self, args: bytes) -> list[Packet]:
        features, a, b = self._templates()
        if a is None or b is None:
            return [self._ack(C.NO_MATCH, bytes(2))]
        same, score = features.module_score(a, b, self.state["security_level"])
        return [self._ack(C.OK if same else C.NO_MATCH, score.to_bytes(2, "big"))]

    def _search(self, args: bytes) -> list[Packet]:
        if len(args) < 5:
            raise ValueError("search needs buffer, start page and count")
        from simulators.scanner import features

        probe = features.decode_char_file(self.char_buffers[self._buffer_id(args)])
        start, count = int.from_bytes(args[1:3], "big"), int.from_bytes(args[3:5], "big")
        best: tuple[int, int] | None = None
        if probe is not None:
            for page in range(start, min(start + count, self.library_size)):
                stored = self.library.get(str(page))
                template = features.decode_char_file(bytes.fromhex(stored)) if stored else None
                if template is None:
                    continue
                same, score = features.module_score(probe, template, self.state["security_level"])
                if same and (best is None or score > best[1]):
                    best = (page, score)
        if best is None:
            return [self._ack(C.NOT_FOUND, bytes(4))]
        return [self._ack(C.OK, best[0].to_bytes(2, "big") + best[1].to_bytes(2, "big"))]

    def _page(self, raw: bytes) -> int:
        if len(raw) < 2:
            raise ValueError("page number needs two bytes")
        return int.from_bytes(raw[:2], "big")

    def _store(self, args: bytes) -> list[Packet]:
        buffer, page = self._buffer_id(args), self._page(args[1:3])
        if page >= self.library_size:
            return [self._ack(C.BAD_LOCATION)]
        self.library[str(page)] = self.char_buffers[buffer].hex()
        self._save()
        return [self._ack(C.OK)]

    def _load_char(self, args: bytes) -> list[Packet]:
        buffer, page = self._buffer_id(args), self._page(args[1:3])
        if page >= self.library_size:
            return [self._ack(C.BAD_LOCATION)]
        stored = self.library.get(str(page))
        if stored is None:
            return [self._ack(C.TEMPLATE_READ_ERROR)]
        self.char_buffers[buffer] = bytes.fromhex(stored)
        return [self._ack(C.OK)]

    def _up_char(self, args: bytes) -> list[Packet]:
        return [self._ack(C.OK), *self._data_packets(self.char_buffers[self._buffer_id(args)])]

    def _down_char(self, args: bytes) -> list[Packet]:
        buffer = self._buffer_id(args)

        def finish(data: bytes) -> None:
            self.char_buffers[buffer] = data[:CHAR_FILE_SIZE].ljust(CHAR_FILE_SIZE, b"\x00")

        self._incoming = (finish, bytearray())
        return [self._ack(C.OK)]

    def _delete_char(self, args: bytes) -> list[Packet]:
        page, count = self._page(args[0:2]), self._page(args[2:4])
        if page + count > self.library_size:
            return [self._ack(C.BAD_LOCATION)]
        for p in range(page, page + count):
            self.library.pop(str(p), None)
        self._save()
        return [self._ack(C.OK)]

    def _empty(self, args: bytes) -> list[Packet]:
        self.library.clear()
        self._save()
        return [self._ack(C.OK)]

    def _template_num(self, args: bytes) -> list[Packet]:
        return [self._ack(C.OK, len(self.library).to_bytes(2, "big"))]

    def _read_index_table(self, args: bytes) -> list[Packet]:
        first = args[0] * INDEX_PAGE_BYTES * 8
        table = bytearray(INDEX_PAGE_BYTES)
        for key in self.library:
            slot = int(key) - first
            if 0 <= slot < INDEX_PAGE_BYTES * 8:
                table[slot // 8] |= 1 << (slot % 8)
        return [self._ack(C.OK, bytes(table))]

    def _get_random(self, args: bytes) -> list[Packet]:
        return [self._ack(C.OK, secrets.token_bytes(4))]

    _handlers: ClassVar[dict[Instruction, Callable[[ZfmModule, bytes], list[Packet]]]] = {
        Instruction.VFY_PWD: _vfy_pwd,
        Instruction.SET_PWD: _set_pwd,
        Instruction.SET_ADDR: _set_addr,
        Instruction.WRITE_REG: _write_reg,
        Instruction.READ_SYS_PARA: _read_sys_para,
        Instruction.GEN_IMG: _gen_img,
        Instruction.UP_IMAGE: _up_image,
        Instruction.DOWN_IMAGE: _down_image,
        Instruction.IMG2TZ: _img2tz,
        Instruction.REG_MODEL: _reg_model,
        Instruction.MATCH: _match,
        Instruction.SEARCH: _search,
        Instruction.HIGH_SPEED_SEARCH: _search,
        Instruction.STORE: _store,
        Instruction.LOAD_CHAR: _load_char,
        Instruction.UP_CHAR: _up_char,
        Instruction.DOWN_CHAR: _down_char,
        Instruction.DELETE_CHAR: _delete_char,
        Instruction.EMPTY: _empty,
        Instruction.TEMPLATE_NUM: _template_num,
        Instruction.READ_INDEX_TABLE: _read_index_table,
        Instruction.GET_RANDOM: _get_random,
    }
