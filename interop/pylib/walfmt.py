"""Just enough of etcd's WAL byte format for the interop tests (stdlib only).

Used to craft files for the edge-case tests, to find frame boundaries for the
mutations, and to confirm where a reader stops when a row of the equivalence
table applies. Written from the format description (doc/format.md,
/work/shared/spec/etcd-wal.md section 1); it is test code, not a reader.
"""

import struct

METADATA, ENTRY, STATE, CRC, SNAPSHOT = 1, 2, 3, 4, 5
MAX_RECORD_V34 = 10 * 1024 * 1024  # etcd v3.3.23+/v3.4.10+ decoder limit

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data, crc=0):
    """CRC-32C of data, chained: crc32c(b, crc32c(a)) == crc32c(a + b)."""
    c = crc ^ 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def varint(v):
    v &= (1 << 64) - 1  # negative int32/int64 values: two's complement, 10 bytes
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def vfield(num, v):
    return varint(num << 3) + varint(v)


def bfield(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def entry_bytes(index, term, etype=0, data=b""):
    out = vfield(1, etype) + vfield(2, term) + vfield(3, index)
    if data:
        out += bfield(4, data)
    return out


def state_bytes(term, vote, commit):
    return vfield(1, term) + vfield(2, vote) + vfield(3, commit)


def snapshot_bytes(index, term):
    return vfield(1, index) + vfield(2, term)


def record_bytes(rtype, crc, data):
    out = vfield(1, rtype) + vfield(2, crc)
    if data is not None:
        out += bfield(3, data)
    return out


def frame(rec, padded=True):
    """8-byte length word + record + zero padding (v3.0+), or unpadded (pre-3.0)."""
    pad = (8 - len(rec) % 8) % 8 if padded else 0
    word = len(rec) | ((0x80 | pad) << 56) if pad else len(rec)
    return struct.pack("<Q", word) + rec + b"\0" * pad


class Writer:
    """Builds records with a running CRC, as etcd's encoder does."""

    def __init__(self, crc=0):
        self.crc = crc

    def record(self, rtype, data, padded=True, crc=None, raw=None):
        """One framed record. data=None: no data field. crc overrides the
        stored value; raw replaces the whole record (CRC still updated from data)."""
        if rtype != CRC:
            self.crc = crc32c(data or b"", self.crc)
        stored = self.crc if crc is None else crc
        rec = raw if raw is not None else record_bytes(rtype, stored, data)
        return frame(rec, padded)

    def crc_record(self):
        return self.record(CRC, None)

    def head(self, metadata, first=True, state=None):
        out = self.crc_record() + self.record(METADATA, metadata)
        if first:
            out += self.record(SNAPSHOT, snapshot_bytes(0, 0))
        elif state is not None:
            out += self.record(STATE, state_bytes(*state))
        return out


def seg_name(seq, index):
    return "%016x-%016x.wal" % (seq, index)


def parse_seg_name(name):
    if not name.endswith(".wal") or len(name) != 37 or name[16] != "-":
        return None
    try:
        return int(name[:16], 16), int(name[17:33], 16)
    except ValueError:
        return None


def frames(data):
    """Frame-level walk of one file as etcd's decoder does it, without
    decoding records: yields (offset, rec_len, pad) until a zero length word,
    the end of the data, or a frame that does not fit (then stops)."""
    off = 0
    n = len(data)
    while off + 8 <= n:
        (word,) = struct.unpack_from("<Q", data, off)
        if word == 0:
            return
        rec_len = word & 0x00FFFFFFFFFFFFFF
        pad = (word >> 56) & 7 if word >> 63 else 0
        if off + 8 + rec_len + pad > n:
            return
        yield off, rec_len, pad
        off += 8 + rec_len + pad


def data_end(data):
    """Offset just past the last complete frame (before zeros / a torn frame)."""
    end = 0
    for off, rec_len, pad in frames(data):
        end = off + 8 + rec_len + pad
    return end


def first_huge_frame(datas):
    """datas: [(name, bytes)] in read order. Walks frames by their length
    words only (etcd's order: zero word or EOF = next file) and returns
    (name, offset) of the first frame whose length is >= 10 MiB - pad (what
    etcd v3.4 rejects with ErrMaxWALEntrySizeLimitExceeded), or None."""
    for name, data in datas:
        off = 0
        n = len(data)
        while off + 8 <= n:
            (word,) = struct.unpack_from("<Q", data, off)
            if word == 0:
                break
            rec_len = word & 0x00FFFFFFFFFFFFFF
            pad = (word >> 56) & 7 if word >> 63 else 0
            if rec_len >= MAX_RECORD_V34 - pad:
                return name, off
            if off + 8 + rec_len + pad > n:
                return None  # a short frame ends the walk first
            off += 8 + rec_len + pad
    return None


def header_at(data, off):
    """(rec_len, pad) of the frame at off, or None if no full length word."""
    if off + 8 > len(data):
        return None
    (word,) = struct.unpack_from("<Q", data, off)
    return word & 0x00FFFFFFFFFFFFFF, ((word >> 56) & 7 if word >> 63 else 0)


def proto_walk(buf):
    """Walks protobuf wire format like gogo's generated Unmarshal/skip code.
    Returns "ok", "truncated" (gogo returns io.ErrUnexpectedEOF: a varint or
    length-delimited field runs past the end) or "invalid" (other errors)."""
    i, n = 0, len(buf)

    def read_varint():
        nonlocal i
        v, shift = 0, 0
        while True:
            if shift >= 64:
                raise ValueError("invalid")
            if i >= n:
                raise ValueError("truncated")
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            if b < 0x80:
                return v & ((1 << 64) - 1)
            shift += 7

    try:
        depth = 0
        while i < n:
            key = read_varint()
            field, wire = key >> 3, key & 7
            if wire == 4:
                if depth == 0:
                    return "invalid"
                depth -= 1
                continue
            if field <= 0 or field >= 1 << 31:
                return "invalid"
            if wire == 0:
                read_varint()
            elif wire == 1:
                if i + 8 > n:
                    return "truncated"
                i += 8
            elif wire == 2:
                ln = read_varint()
                if ln >= 1 << 63:
                    return "invalid"
                if i + ln > n:
                    return "truncated"
                i += ln
            elif wire == 3:
                depth += 1
            elif wire == 5:
                if i + 4 > n:
                    return "truncated"
                i += 4
            else:
                return "invalid"
        return "ok"
    except ValueError as e:
        return str(e)


def _fields(buf):
    """Varint and length-delimited fields of a protobuf message: {num: value}
    (the last one wins, as in protobuf). Raises ValueError on bad bytes."""
    out, i, n = {}, 0, len(buf)

    def varint_at():
        nonlocal i
        v, shift = 0, 0
        while True:
            if i >= n or shift >= 64:
                raise ValueError("bad varint")
            b = buf[i]
            i += 1
            v |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return v

    while i < n:
        key = varint_at()
        num, wt = key >> 3, key & 7
        if wt == 0:
            out[num] = varint_at()
        elif wt == 2:
            ln = varint_at()
            if i + ln > n:
                raise ValueError("field past end")
            out[num] = buf[i:i + ln]
            i += ln
        elif wt == 1:
            i += 8
        elif wt == 5:
            i += 4
        else:
            raise ValueError("wire type %d" % wt)
    return out


def raft_replay(datas, snap, term_rule=True):
    """An oracle for raft's reading rules, independent of both readers:
    walks the entry records of `datas` ([(name, bytes)] in read order; frames
    only, no CRC check: use it on logs both readers accepted) and returns
    [(index, term)] after `snap` = (index, term) with (1) an entry at index i
    dropping every entry collected at >= i, also at or below the snapshot,
    and (2) the result cut before the first entry whose term is below the
    snapshot's or the previous entry's. See doc/recovery.md."""
    ents = []
    for _name, data in datas:
        for off, rec_len, _pad in frames(data):
            rec = _fields(data[off + 8:off + 8 + rec_len])
            if rec.get(1) != ENTRY:
                continue
            e = _fields(rec.get(3, b""))
            idx, term = e.get(3, 0), e.get(2, 0)
            if idx <= snap[0]:
                ents = []
                continue
            up = idx - snap[0] - 1
            if up > len(ents):
                return None  # a gap: not a case for this oracle
            del ents[up:]
            ents.append((idx, term))
    if not term_rule:
        return ents
    floor = snap[1]
    for k, (_idx, term) in enumerate(ents):
        if term < floor:
            return ents[:k]
        floor = term
    return ents
