"""BER-TLV (ISO/IEC 7816-4 §5.2 / X.690 definite lengths) with strict, canonical decoding.

Tags are ints as written in specs (``0x5F2E``: first byte 5F, second 2E). Lengths are definite and
minimal (``81`` only for 128..255, ``82`` for 256..65535, ``83`` up to 2**24-1); indefinite or
non-minimal lengths, truncated values and trailing bytes are errors, so one family has exactly one
encoding — which is what the issuance signature is computed over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cardlib.errors import CardError


class TlvError(CardError, ValueError):
    """Bytes that are not the canonical BER-TLV expected (damaged or foreign card data)."""


@dataclass(frozen=True, slots=True)
class Tlv:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return bool(tag_bytes(self.tag)[0] & 0x20)

    def encode(self) -> bytes:
        return encode(self.tag, self.value)

    def __repr__(self) -> str:  # values may hold templates or photos: never print them
        return f"Tlv(tag={self.tag:X}, len={len(self.value)})"


def tag_bytes(tag: int) -> bytes:
    """The bytes of ``tag``, checking it is a well-formed BER tag."""
    if tag <= 0 or tag > 0xFFFFFF:
        raise TlvError(f"tag {tag:#x} is not a 1-3 byte BER tag")
    raw = tag.to_bytes((tag.bit_length() + 7) // 8, "big")
    first = raw[0]
    multi = first & 0x1F == 0x1F
    if len(raw) == 1 and multi:
        raise TlvError(f"tag {tag:#x} announces more tag bytes that are missing")
    if len(raw) > 1:
        if not multi:
            raise TlvError(f"tag {tag:#x}: first byte does not announce a multi-byte tag")
        if any(b & 0x80 == 0 for b in raw[1:-1]) or raw[-1] & 0x80:
            raise TlvError(f"tag {tag:#x}: continuation bits are wrong")
        if raw[1] == 0x80:
            raise TlvError(f"tag {tag:#x}: tag number has a leading zero group (not minimal)")
    return raw


def length_bytes(length: int) -> bytes:
    if length < 0 or length > 0xFFFFFF:
        raise TlvError(f"length {length} cannot be encoded (max 16 MiB)")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def header_size(tag: int, length: int) -> int:
    """Bytes of tag + length fields for a value of ``length`` bytes (for byte budgets)."""
    return len(tag_bytes(tag)) + len(length_bytes(length))


def encode(tag: int, value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray):
        raise TlvError(f"TLV value for tag {tag:X} must be bytes")
    return tag_bytes(tag) + length_bytes(len(value)) + bytes(value)


def constructed(tag: int, children: Iterable[bytes]) -> bytes:
    """A constructed TLV whose value is the concatenation of already-encoded children."""
    if not tag_bytes(tag)[0] & 0x20:
        raise TlvError(f"tag {tag:X} is primitive; a constructed tag has bit 6 of its first byte set")
    return encode(tag, b"".join(children))


def decode_one(data: bytes, offset: int = 0) -> tuple[Tlv, int]:
    """Decode the TLV at ``offset``; return it and the offset just after it."""
    end = len(data)
    if offset >= end:
        raise TlvError("expected a TLV, found the end of the data")
    start = offset
    first = data[offset]
    if first in (0x00, 0xFF):
        raise TlvError(f"byte {first:02X} at offset {offset} is padding, not a tag")
    offset += 1
    if first & 0x1F == 0x1F:
        while True:
            if offset >= end:
                raise TlvError(f"tag at offset {start} is truncated")
            byte = data[offset]
            offset += 1
            if offset - start > 3:
                raise TlvError(f"tag at offset {start} is longer than 3 bytes")
            if not byte & 0x80:
                break
    tag = int.from_bytes(data[start:offset], "big")
    tag_bytes(tag)
    if offset >= end:
        raise TlvError(f"tag {tag:X} has no length")
    first_len = data[offset]
    offset += 1
    if first_len < 0x80:
        length = first_len
    elif first_len == 0x80:
        raise TlvError(f"tag {tag:X} uses an indefinite length")
    else:
        size = first_len & 0x7F
        if size > 3 or offset + size > end:
            raise TlvError(f"tag {tag:X} has a bad or truncated length field")
        length = int.from_bytes(data[offset : offset + size], "big")
        offset += size
        if length_bytes(length) != bytes((first_len,)) + data[offset - size : offset]:
            raise TlvError(f"tag {tag:X} has a non-minimal length encoding")
    if offset + length > end:
        raise TlvError(f"tag {tag:X} says {length} bytes but only {end - offset} follow")
    return Tlv(tag, bytes(data[offset : offset + length])), offset + length


def iter_tlvs(data: bytes) -> Iterator[Tlv]:
    offset = 0
    while offset < len(data):
        item, offset = decode_one(data, offset)
        yield item


def decode_all(data: bytes) -> list[Tlv]:
    """Every TLV in ``data``; the data must be exactly a sequence of TLVs."""
    return list(iter_tlvs(data))


def decode_single(data: bytes, tag: int | None = None) -> Tlv:
    """Exactly one TLV (of ``tag`` if given) and nothing after it."""
    item, end = decode_one(data)
    if end != len(data):
        raise TlvError(f"{len(data) - end} unexpected bytes after tag {item.tag:X}")
    if tag is not None and item.tag != tag:
        raise TlvError(f"expected tag {tag:X}, found {item.tag:X}")
    return item


def children(value: bytes, allowed: Iterable[int] | None = None) -> dict[int, bytes]:
    """The children of a constructed value as ``{tag: value}``; duplicates and unknown tags are errors."""
    allowed_set = set(allowed) if allowed is not None else None
    out: dict[int, bytes] = {}
    for item in iter_tlvs(value):
        if item.tag in out:
            raise TlvError(f"tag {item.tag:X} appears twice")
        if allowed_set is not None and item.tag not in allowed_set:
            raise TlvError(f"unexpected tag {item.tag:X}")
        out[item.tag] = item.value
    return out


def encoded_size(prefix: bytes) -> int:
    """Total size (header + value) of the TLV that ``prefix`` starts, from its first few bytes.

    Lets a reader fetch a file's header and then exactly the rest. Needs the tag and length fields
    (at most 7 bytes) in ``prefix``; raises :class:`TlvError` when they are malformed.
    """
    pos = 0
    if not prefix or prefix[0] in (0x00, 0xFF):
        raise TlvError("expected a TLV at the start of the file, found padding (empty file?)")
    pos = 1
    if prefix[0] & 0x1F == 0x1F:
        while pos < len(prefix) and prefix[pos] & 0x80:
            pos += 1
        pos += 1
    if pos >= len(prefix):
        raise TlvError("TLV header is truncated")
    first = prefix[pos]
    pos += 1
    if first < 0x80:
        return pos + first
    size = first & 0x7F
    if first == 0x80 or size > 3 or pos + size > len(prefix):
        raise TlvError("TLV length field is malformed or truncated")
    return pos + size + int.from_bytes(prefix[pos : pos + size], "big")
