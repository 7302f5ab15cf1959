"""ESP32 partition tables: the CSV of a board (boards/esp32*/partitions*.csv)
and the binary form the bootloader reads at 0x8000 (ESP-IDF's format: 32-byte
entries ``<2sBBII16sI`` with magic AA 50, then an MD5 entry EB EB, then FF).

Rows are dicts: name, type, subtype (ints), offset, size. ``journal(rows)``
gives the accumulator's two raw partitions (docs/journal.md).
"""

import hashlib
import struct

TABLE_OFFSET = 0x8000
TABLE_SIZE = 0xC00
_ENTRY = "<2sBBII16sI"
_MAGIC = b"\xaa\x50"
_MD5 = b"\xeb\xeb" + b"\xff" * 14
TYPES = {"app": 0x00, "data": 0x01}
SUBTYPES = {"factory": 0x00, "phy": 0x01, "nvs": 0x02, "coredump": 0x03, "fat": 0x81, "spiffs": 0x82,
            "littlefs": 0x83}
JOURNAL = ("fjournal", "fmemory")


class TableError(ValueError):
    pass


def _int(s):
    s = s.strip()
    mult = 1
    if s[-1:] in ("K", "k"):
        mult, s = 1024, s[:-1]
    elif s[-1:] in ("M", "m"):
        mult, s = 1 << 20, s[:-1]
    return int(s, 0) * mult


def parse_csv(text):
    rows = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        cols = [c.strip() for c in line.split(",")]
        if len(cols) < 5 or not cols[3] or not cols[4]:
            raise TableError("every partition needs an explicit offset and size: " + line)
        name, ptype, sub, off, size = cols[:5]
        t = TYPES[ptype] if ptype in TYPES else int(ptype, 0)
        st = SUBTYPES[sub] if sub in SUBTYPES else int(sub, 0)
        rows.append({"name": name, "type": t, "subtype": st, "offset": _int(off), "size": _int(size)})
    return rows


def read_csv(path):
    with open(path, encoding="ascii") as f:
        return parse_csv(f.read())


def to_binary(rows):
    out = b"".join(struct.pack(_ENTRY, _MAGIC, r["type"], r["subtype"], r["offset"], r["size"],
                               r["name"].encode(), 0) for r in rows)
    out += _MD5 + hashlib.md5(out).digest()
    return out + b"\xff" * (TABLE_SIZE - len(out))


def parse_binary(data):
    rows = []
    body = b""
    for i in range(0, min(len(data), TABLE_SIZE), 32):
        e = data[i:i + 32]
        if e[:2] == _MAGIC:
            m, t, st, off, size, label, flags = struct.unpack(_ENTRY, e)
            rows.append({"name": label.rstrip(b"\x00").decode("ascii", "replace"), "type": t, "subtype": st,
                         "offset": off, "size": size})
            body += e
        elif e[:16] == _MD5:
            if hashlib.md5(body).digest() != e[16:]:
                raise TableError("partition table MD5 does not match")
            return rows
        elif e == b"\xff" * 32:
            break
        else:
            raise TableError("not a partition table at 0x%x" % (TABLE_OFFSET + i))
    if not rows:
        raise TableError("no partition table (blank or erased flash)")
    return rows


def journal(rows):
    """The accumulator's partitions: {name: row}; TableError when one is missing."""
    by = {r["name"]: r for r in rows}
    for n in JOURNAL:
        if n not in by:
            raise TableError("no %s partition in the table" % n)
    return {n: by[n] for n in JOURNAL}
