# The software test at power-on (KZ-2.2, KZ-43.1): the code folder on the
# device holds MANIFEST, written by the service centre's deploy
# (tools/deploy.py): one line "<sha-256 hex> <path>" per module, paths
# relative to the folder. check() hashes every listed file with the
# device's own hashlib and names the first one missing or changed; a file
# the manifest does not list is foreign code and fails the test too. A
# frozen image names its code's digest in the line "<hex> frozen:" and
# carries the same digest in its frozen module `frozen_digest` (DIGEST).

import hashlib
import os

from compat import hexdigest

MANIFEST = "firmware.sha256"
FROZEN = "frozen:"
_CHUNK = 512


def file_digest(path):
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    mv = memoryview(buf)
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(mv[:n])
    return hexdigest(h)


def _lines(folder):
    # (hex, path) of each line of the folder's manifest, read as it goes
    # (the boot holds one line at a time); OSError when it has none
    with open(folder + "/" + MANIFEST) as f:
        for line in f:
            hx, _, path = line.strip().partition(" ")
            if path:
                yield hx, path


def listing(folder):
    # [(name, is a folder)] of the entries of folder
    return [(n, os.stat(folder + "/" + n)[0] & 0x4000 != 0) for n in os.listdir(folder)]


def files(folder, rel=""):
    # every file below folder, as paths relative to it
    out = []
    base = folder + "/" + rel if rel else folder
    for name, sub in listing(base):
        path = rel + "/" + name if rel else name
        if sub:
            out += files(folder, path)
        else:
            out.append(path)
    return out


def _count(folder):
    n = 0
    for name, sub in listing(folder):
        n += _count(folder + "/" + name) if sub else 1
    return n


def frozen_digest():
    try:
        from frozen_digest import DIGEST
    except ImportError:
        return None
    return DIGEST


def check(folder):
    # None when the code in `folder` is the deployed code, else why not
    listed = 0
    try:
        for hx, path in _lines(folder):
            if path == FROZEN:
                if frozen_digest() != hx:
                    return "frozen code changed"
                continue
            listed += 1
            try:
                d = file_digest(folder + "/" + path)
            except OSError:
                return "missing: " + path
            if d != hx:
                return "changed: " + path
    except OSError:
        return "no manifest"
    if _count(folder) == listed + 1:
        return None  # every listed file is there, and the manifest: nothing else
    names = [path for _hx, path in _lines(folder)]
    for path in files(folder):
        if path != MANIFEST and path not in names:
            return "unlisted: " + path
    return None
