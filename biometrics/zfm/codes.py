"""Numbers of the ZhianTec ZFM serial protocol (R30x, R503, AS608 and compatible modules).

Values as the module user manuals define them; names are ours.
"""

from __future__ import annotations

from enum import IntEnum

START_CODE = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
DEFAULT_PASSWORD = 0x00000000
DEFAULT_BAUD = 57600

IMAGE_WIDTH = 256  # the module's native image, sent 4 bits per pixel, two pixels per byte
IMAGE_HEIGHT = 288
IMAGE_DPI = 500
CHAR_FILE_SIZE = 512  # one character buffer / template, as uploaded by UpChar
INDEX_PAGE_BYTES = 32  # ReadIndexTable: 256 library slots per page, one bit each


class PacketType(IntEnum):
    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END_DATA = 0x08


class Instruction(IntEnum):
    GEN_IMG = 0x01
    IMG2TZ = 0x02
    MATCH = 0x03
    SEARCH = 0x04
    REG_MODEL = 0x05
    STORE = 0x06
    LOAD_CHAR = 0x07
    UP_CHAR = 0x08
    DOWN_CHAR = 0x09
    UP_IMAGE = 0x0A
    DOWN_IMAGE = 0x0B
    DELETE_CHAR = 0x0C
    EMPTY = 0x0D
    WRITE_REG = 0x0E
    READ_SYS_PARA = 0x0F
    SET_PWD = 0x12
    VFY_PWD = 0x13
    GET_RANDOM = 0x14
    SET_ADDR = 0x15
    HIGH_SPEED_SEARCH = 0x1B
    TEMPLATE_NUM = 0x1D
    READ_INDEX_TABLE = 0x1F


class Register(IntEnum):
    """WriteReg register numbers."""

    BAUD = 4  # value N: 9600 * N baud
    SECURITY_LEVEL = 5  # 1..5
    PACKET_SIZE = 6  # 0..3: 32, 64, 128, 256 bytes


PACKET_SIZES = (32, 64, 128, 256)


class Confirmation(IntEnum):
    """The first payload byte of every acknowledge packet."""

    OK = 0x00
    PACKET_ERROR = 0x01
    NO_FINGER = 0x02
    IMAGE_FAIL = 0x03
    IMAGE_MESSY = 0x06
    FEATURE_FAIL = 0x07
    NO_MATCH = 0x08
    NOT_FOUND = 0x09
    ENROLL_MISMATCH = 0x0A
    BAD_LOCATION = 0x0B
    TEMPLATE_READ_ERROR = 0x0C
    UPLOAD_FEATURE_FAIL = 0x0D
    PACKET_RESPONSE_FAIL = 0x0E
    UPLOAD_IMAGE_FAIL = 0x0F
    DELETE_FAIL = 0x10
    CLEAR_FAIL = 0x11
    WRONG_PASSWORD = 0x13
    INVALID_IMAGE = 0x15
    FLASH_ERROR = 0x18
    UNDEFINED_ERROR = 0x19
    INVALID_REGISTER = 0x1A
    BAD_REGISTER_CONFIG = 0x1B
    BAD_NOTEPAD_PAGE = 0x1C
    PORT_FAIL = 0x1D
    LIBRARY_FULL = 0x1F
    ADDRESS_WRONG = 0x20
    PASSWORD_REQUIRED = 0x21
    TEMPLATE_EMPTY = 0x22
    LIBRARY_EMPTY = 0x24
    TIMEOUT = 0x26
    ALREADY_EXISTS = 0x27
    SENSOR_ERROR = 0x29
    UNSUPPORTED = 0xFC
    HARDWARE_ERROR = 0xFD
    EXECUTION_FAILED = 0xFE


DESCRIPTIONS: dict[int, str] = {
    Confirmation.PACKET_ERROR: "the module could not receive the command packet",
    Confirmation.NO_FINGER: "no finger is on the sensor",
    Confirmation.IMAGE_FAIL: "the module failed to take the image",
    Confirmation.IMAGE_MESSY: "the image is too disorderly (wet or smudged finger)",
    Confirmation.FEATURE_FAIL: "the image has too few features (dry, light or partial finger)",
    Confirmation.NO_MATCH: "the two templates do not match",
    Confirmation.NOT_FOUND: "no matching template in the library",
    Confirmation.ENROLL_MISMATCH: "the two impressions are not of the same finger",
    Confirmation.BAD_LOCATION: "the library position is outside the library",
    Confirmation.TEMPLATE_READ_ERROR: "the library slot is empty or its template is invalid",
    Confirmation.UPLOAD_FEATURE_FAIL: "the module failed to upload the template",
    Confirmation.PACKET_RESPONSE_FAIL: "the module cannot receive the following data packets",
    Confirmation.UPLOAD_IMAGE_FAIL: "the module failed to upload the image",
    Confirmation.DELETE_FAIL: "the module failed to delete the template",
    Confirmation.CLEAR_FAIL: "the module failed to clear the library",
    Confirmation.WRONG_PASSWORD: "the module password is wrong",
    Confirmation.INVALID_IMAGE: "there is no valid image in the image buffer",
    Confirmation.FLASH_ERROR: "the module failed to write its flash memory",
    Confirmation.INVALID_REGISTER: "no such system register",
    Confirmation.BAD_REGISTER_CONFIG: "the register value is out of range",
    Confirmation.LIBRARY_FULL: "the template library is full",
    Confirmation.ADDRESS_WRONG: "the module address is wrong",
    Confirmation.PASSWORD_REQUIRED: "the module password must be verified first",
    Confirmation.UNSUPPORTED: "the module does not support this command",
}


def describe(code: int) -> str:
    """A short English description of a confirmation code (for error messages)."""
    return DESCRIPTIONS.get(code, f"the module reported confirmation code 0x{code:02X}")
