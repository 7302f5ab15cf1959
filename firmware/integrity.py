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


def entries(folder):
    # [(hex, path)] of the folder's manifest; OSError when it has none
    out = []
    with open(folder + "/" + MANIFEST) as f:
        for line in f:
            line = line.strip()
            if line:
                hx, _, path = line.partition(" ")
                out.append((hx, path))
    return out


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


def frozen_digest():
    try:
        from frozen_digest import DIGEST
    except ImportError:
        return None
    return DIGEST


def check(folder):
    # None when the code in `folder` is the deployed code, else why not
    try:
        listed = entries(folder)
    except OSError:
        return "no manifest"
    names = {}
    for hx, path in listed:
        names[path] = True
        if path == FROZEN:
            if frozen_digest() != hx:
                return "frozen code changed"
            continue
        try:
            d = file_digest(folder + "/" + path)
        except OSError:
            return "missing: " + path
        if d != hx:
            return "changed: " + path
    for path in files(folder):
        if path != MANIFEST and path not in names:
            return "unlisted: " + path
    return None
