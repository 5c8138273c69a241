"""A compact, memory-mapped index of geoip2fast's ASN data: which organisation announces an IP.

geoip2fast ships GeoLite2 ASN data (organisation names, no AS numbers) as a
pickled, gzipped file that takes ~0.3 s to load. We convert it once into a flat
binary file of sorted range starts and ends plus an organisation-name table,
and answer lookups with `bisect` over a memory map: a few milliseconds to open.
"""

from __future__ import annotations

import array
import bisect
import mmap
import os
import struct
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MAGIC = b"ACCTSEC-ASNIDX-2"
_HEADER = struct.Struct("<16s8Q")  # magic, then counts and byte offsets (see _write)
_MAX_IPV4 = 2**32 - 1
# geoip2fast's own entries for unrouted space; not an organisation.
_NOT_AN_ORG = frozenset({"", "<unknown>", "IANA.ORG"})
SOURCE_FILE = "geoip2fast-asn-ipv6.dat.gz"  # holds the IPv4 networks too


@dataclass(frozen=True, slots=True)
class AsnHit:
    """The organisation announcing a network, and the network as a CIDR string."""

    org: str
    cidr: str
    data_info: str


def geoip2fast_data_path() -> Path:
    """The ASN data file inside the installed geoip2fast package (not imported: it is slow)."""
    import importlib.util

    spec = importlib.util.find_spec("geoip2fast")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the geoip2fast package is not installed")
    return Path(spec.origin).parent / SOURCE_FILE


def index_file_name(source: Path) -> str:
    """Name of the index built from `source`: changes when the source file changes."""
    stat = source.stat()
    key = f"{source.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{sys.byteorder}|{MAGIC!r}"
    return f"asn-index-{zlib.crc32(key.encode()):08x}-{stat.st_size}.bin"


class AsnIndex:
    """Read-only lookups over a built index (from a file or from bytes in memory)."""

    def __init__(self, buffer: bytes | mmap.mmap) -> None:
        self._buffer = buffer
        view = memoryview(buffer)
        magic, n4, n6, norgs, blob_len, info_len, *_ = _HEADER.unpack_from(view, 0)
        if magic != MAGIC:
            raise ValueError("not an acctsec ASN index")
        off = _HEADER.size
        self._v4_start, off = _cast(view, off, "I", n4)
        self._v4_end, off = _cast(view, off, "I", n4)
        self._v4_org, off = _cast(view, off, "I", n4)
        self._v6_start_hi, off = _cast(view, off, "Q", n6)
        self._v6_start_lo, off = _cast(view, off, "Q", n6)
        self._v6_end_hi, off = _cast(view, off, "Q", n6)
        self._v6_end_lo, off = _cast(view, off, "Q", n6)
        self._v6_prefix, off = _cast(view, off, "B", n6)
        off = _align(off)
        self._v6_org, off = _cast(view, off, "I", n6)
        self._org_offsets, off = _cast(view, off, "I", norgs + 1)
        self._blob = view[off : off + blob_len]
        self.data_info = bytes(view[off + blob_len : off + blob_len + info_len]).decode()
        self._v4_prefix_cache: dict[int, int] = {}

    def lookup(self, value: int, version: int) -> AsnHit | None:
        """The organisation of the network holding the address `value` (an int), if any."""
        if version == 4:
            return self._lookup_v4(value)
        return self._lookup_v6(value)

    def _lookup_v4(self, value: int) -> AsnHit | None:
        i = bisect.bisect_right(self._v4_start, value) - 1
        if i < 0 or not self._v4_start[i] <= value <= self._v4_end[i]:
            return None  # the address lies outside the nearest network: not announced
        start, end = self._v4_start[i], self._v4_end[i]
        prefix = 32 - (end - start + 1).bit_length() + 1
        return AsnHit(self._org(self._v4_org[i]), f"{_v4_text(start)}/{prefix}", self.data_info)

    def _lookup_v6(self, value: int) -> AsnHit | None:
        hi, lo = value >> 64, value & (2**64 - 1)
        i = bisect.bisect_right(self._v6_start_hi, hi) - 1
        # Networks longer than /64 share a high half; step back to the last start <= value.
        while i >= 0 and (self._v6_start_hi[i], self._v6_start_lo[i]) > (hi, lo):
            i -= 1
        if i < 0:
            return None
        start = (self._v6_start_hi[i] << 64) | self._v6_start_lo[i]
        end = (self._v6_end_hi[i] << 64) | self._v6_end_lo[i]
        if not start <= value <= end:
            return None
        cidr = f"{_v6_text(start)}/{self._v6_prefix[i]}"
        return AsnHit(self._org(self._v6_org[i]), cidr, self.data_info)

    def _org(self, org_id: int) -> str:
        begin, end = self._org_offsets[org_id], self._org_offsets[org_id + 1]
        return bytes(self._blob[begin:end]).decode("utf-8", errors="replace")

    @property
    def size(self) -> tuple[int, int]:
        """Number of IPv4 and IPv6 networks."""
        return len(self._v4_start), len(self._v6_start_hi)


def open_index(cache_dir: Path | None, source: Path | None = None) -> AsnIndex:
    """The index for `source`, built into `cache_dir` on first use (in memory when None)."""
    source = source or geoip2fast_data_path()
    if cache_dir is None:
        return AsnIndex(build_index_bytes(source))
    path = cache_dir / index_file_name(source)
    if not path.exists():
        _write_atomically(path, build_index_bytes(source))
    with path.open("rb") as fh:
        return AsnIndex(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))


def _write_atomically(path: Path, data: bytes) -> None:
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".asn-index-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def build_index_bytes(source: Path) -> bytes:
    """Converts geoip2fast's pickled ASN data into the flat index format."""
    import gzip
    import pickle  # noqa: S403 - only the data file shipped inside the installed geoip2fast

    with gzip.open(source, "rb") as fh:
        version, source_info, _total, database = pickle.load(fh)  # noqa: S301 - packaged data
    if version not in (120, 121) or not source_info.get("asn"):
        raise ValueError(f"{source.name}: unexpected geoip2fast data version {version}")
    names: list[str] = database[3]
    v4: list[tuple[int, int, int]] = []
    v6: list[tuple[int, int, int, int]] = []
    for start, org_id, prefix in _networks(database):
        if org_id >= len(names) or names[org_id] in _NOT_AN_ORG:
            continue
        if start <= _MAX_IPV4:
            v4.append((start, start + 2 ** (32 - prefix) - 1, org_id))
        else:
            v6.append((start, start + 2 ** (128 - prefix) - 1, prefix, org_id))
    return _write(v4, v6, names, str(source_info.get("info", source.name)))


def _networks(database: list[list[list[int]]]) -> Iterator[tuple[int, int, int]]:
    # Layout of a "country with ASN" geoip2fast file: index 5 first IPs, 7 name ids,
    # 9 prefix lengths, each split into chunks.
    for starts, org_ids, prefixes in zip(database[5], database[7], database[9], strict=True):
        yield from zip(starts, org_ids, prefixes, strict=True)


def _write(
    v4: list[tuple[int, int, int]],
    v6: list[tuple[int, int, int, int]],
    names: list[str],
    info: str,
) -> bytes:
    v4.sort()
    v6.sort()
    encoded = [n.encode("utf-8") for n in names]
    offsets = array.array("I", [0])
    for item in encoded:
        offsets.append(offsets[-1] + len(item))
    blob = b"".join(encoded)
    info_bytes = info.encode()
    mask = 2**64 - 1
    parts = [
        array.array("I", (s for s, _, _ in v4)),
        array.array("I", (e for _, e, _ in v4)),
        array.array("I", (o for _, _, o in v4)),
        array.array("Q", (s >> 64 for s, _, _, _ in v6)),
        array.array("Q", (s & mask for s, _, _, _ in v6)),
        array.array("Q", (e >> 64 for _, e, _, _ in v6)),
        array.array("Q", (e & mask for _, e, _, _ in v6)),
    ]
    body = b"".join(p.tobytes() for p in parts)
    body += bytes(p for _, _, p, _ in v6)
    body += b"\0" * (_align(_HEADER.size + len(body)) - _HEADER.size - len(body))
    body += array.array("I", (o for _, _, _, o in v6)).tobytes() + offsets.tobytes()
    header = _HEADER.pack(MAGIC, len(v4), len(v6), len(names), len(blob), len(info_bytes), 0, 0, 0)
    return header + body + blob + info_bytes


def _cast(
    view: memoryview, offset: int, code: Literal["B", "I", "Q"], count: int
) -> tuple[memoryview[int], int]:
    size = struct.calcsize(code) * count
    return view[offset : offset + size].cast(code), offset + size


def _align(offset: int) -> int:
    return (offset + 7) // 8 * 8


def _v4_text(value: int) -> str:
    return ".".join(str((value >> shift) & 0xFF) for shift in (24, 16, 8, 0))


def _v6_text(value: int) -> str:
    import ipaddress

    return str(ipaddress.IPv6Address(value))
