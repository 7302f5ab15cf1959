"""Sign update packages for the fleet: LMS keys (RFC 8554) of the service centre.

``python tools/fleet_sign.py keygen --key var/fleet/update.key`` makes a key (by default
LMS_SHA256_M32_H10 with LMOTS_SHA256_N32_W4: 1024 signatures) and writes its public key
beside it (``update.key.pub``, 56 bytes, which ``tools/deploy.py`` provisions on each board).

``python tools/fleet_sign.py sign --key K --tree build/mpy/esp32s3/lib --board esp32s3
--version 0.2.0 --minimum 0.1.0 --out pkg.kkm`` builds the package of a code tree
(firmware/fleet/package.py; without --tree it builds the board's tree) and signs it. A tree
without ``update.pub`` gets the signer's public key, so the new version takes updates too.

An LMS key is a set of one-time keys: each signature uses the next one, and a one-time
key used twice leaks enough to forge. The key file's counter is therefore advanced and
flushed to disk (under a file lock) before the signature is computed, so a crash can
waste a one-time key but never reuse one; a copy of the key file restored from a backup
would reuse them, so keep no backups of it, only of new keys.
"""

import hashlib
import os
import sys

_ROOT = (__file__.rsplit("/", 1)[0] if "/" in __file__ else ".") + "/.."  # the project
if _ROOT + "/firmware" not in sys.path:
    sys.path.insert(0, _ROOT + "/firmware")

from compat import hexdigest  # noqa: E402
from fleet import package as P  # noqa: E402
from fleet import sign as S  # noqa: E402

LMS_H10 = 6
OTS_W4 = 3


class Key:
    """The private key: its types, identifier I and SEED (RFC 8554 Appendix A derivation)."""

    def __init__(self, ltype, otype, ident, seed):
        self.ltype = ltype
        self.otype = otype
        self.ident = ident
        self.seed = seed
        self.h = S.LMS[ltype]
        self._tree = None

    def _x(self, q, i):
        # the secret start of chain i of one-time key q
        return hashlib.sha256(self.ident + S.u32(q) + i.to_bytes(2, "big") + b"\xff" + self.seed).digest()

    def _ots_pub(self, q):
        w, p, _ls = S.OTS[self.otype]
        iq = self.ident + S.u32(q)
        k = hashlib.sha256(iq + S.D_PBLC)
        for i in range(p):
            k.update(S.chain(iq, i, self._x(q, i), 0, (1 << w) - 1))
        return k.digest()

    def tree(self):
        # T[1 .. 2^(h+1)-1], the Merkle tree over every one-time public key
        if self._tree is None:
            leaves = 1 << self.h
            t = [None] * (2 * leaves)
            for q in range(leaves):
                t[leaves + q] = S.leaf(self.ident, leaves + q, self._ots_pub(q))
            for r in range(leaves - 1, 0, -1):
                t[r] = S.parent(self.ident, r, t[2 * r], t[2 * r + 1])
            self._tree = t
        return self._tree

    def public(self):
        return S.u32(self.ltype) + S.u32(self.otype) + self.ident + self.tree()[1]

    def sign(self, q, msg):
        # the signature of msg with one-time key q: the caller never passes a q twice
        if q >> self.h:
            raise ValueError("the key is used up: all %d one-time keys are spent" % (1 << self.h))
        w, p, ls = S.OTS[self.otype]
        iq = self.ident + S.u32(q)
        c = os.urandom(S.N)
        s = S.digits(iq, c, msg, w, ls)
        ys = [S.chain(iq, i, self._x(q, i), 0, S.coef(s, i, w)) for i in range(p)]
        t = self.tree()
        node = (1 << self.h) + q
        path = []
        while node > 1:
            path.append(t[node ^ 1])
            node >>= 1
        return S.u32(q) + S.u32(self.otype) + c + b"".join(ys) + S.u32(self.ltype) + b"".join(path)


def new_key(ltype=LMS_H10, otype=OTS_W4):
    return Key(ltype, otype, os.urandom(16), os.urandom(S.N))


# --- the package (firmware/fleet/package.py reads it) --------------------------------


def body(files, board, version, minimum):
    # files: [(path, bytes)] of the code folder, its manifest left out
    head = "board %s\nversion %s\nminimum %s\n\n" % (board, version, minimum)
    lines = ["%s %d %s\n" % (hexdigest(hashlib.sha256(d)), len(d), p) for p, d in files]
    return (head + "".join(lines)).encode()


def message(b):
    return hashlib.sha256(b).digest()


def pack(b, sig, files):
    # sig: b"" for an unsigned package
    out = [P.MAGIC, S.u32(len(b)), b, S.u32(len(sig)), sig]
    return b"".join(out + [d for _p, d in files])


def tree_files(tree):
    # [(path, bytes)] of a built lib/ folder (tools/deploy.py), without its manifest
    out = []
    for base, dirs, names in os.walk(tree):
        dirs.sort()
        for n in sorted(names):
            path = os.path.relpath(os.path.join(base, n), tree).replace(os.sep, "/")
            if path != P.MANIFEST:
                with open(os.path.join(base, n), "rb") as f:
                    out.append((path, f.read()))
    return out


# --- the key file: types, I, SEED and the next unused one-time key -------------------


def _text(key, q):
    return "lms %d\nots %d\nid %s\nseed %s\nnext %d\n" % (key.ltype, key.otype, key.ident.hex(), key.seed.hex(), q)


def _parse(text):
    f = dict(line.split(" ", 1) for line in text.splitlines() if line)
    key = Key(int(f["lms"]), int(f["ots"]), bytes.fromhex(f["id"]), bytes.fromhex(f["seed"]))
    return key, int(f["next"])


def _write_durably(path, text):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    d = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(d)  # the rename itself on disk
    finally:
        os.close(d)


def save_new(path, key):
    if os.path.exists(path):
        raise SystemExit("%s exists: a second key file with the same counter would reuse one-time keys" % path)
    _write_durably(path, _text(key, 0))
    with open(path + ".pub", "wb") as f:
        f.write(key.public())


def reserve(path):
    """(key, q): the next one-time key, already marked used on disk."""
    import fcntl

    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one signer at a time
        with open(path) as f:
            key, q = _parse(f.read())
        if q >> key.h:
            raise SystemExit("the key %s is used up (%d signatures): make a new key" % (path, q))
        _write_durably(path, _text(key, q + 1))
    return key, q


def sign_file(path, msg):
    key, q = reserve(path)
    return key.sign(q, msg)


def main(argv):
    import argparse

    sys.path.insert(0, _ROOT)
    from tools import deploy

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    kg = sub.add_parser("keygen", help="make a signing key and its public key (KEY.pub)")
    kg.add_argument("--key", required=True)
    kg.add_argument("--height", type=int, default=10, choices=(5, 10, 15), help="2^height signatures")
    sg = sub.add_parser("sign", help="package and sign a code tree")
    sg.add_argument("--key", required=True)
    sg.add_argument("--tree", help="the lib/ folder (default: build it: tools/deploy.py)")
    sg.add_argument("--board", required=True)
    sg.add_argument("--version", required=True)
    sg.add_argument("--minimum", default="0.0.0")
    sg.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    if a.cmd == "keygen":
        key = new_key({5: 5, 10: 6, 15: 7}[a.height])
        os.makedirs(os.path.dirname(os.path.abspath(a.key)), exist_ok=True)
        save_new(a.key, key)
        print("%s: %d signatures; public key %s.pub %s" % (a.key, 1 << key.h, a.key, key.public().hex()))
        return 0
    tree = a.tree or os.path.join(deploy.build(a.board), deploy.LIB)
    files = tree_files(tree)
    if deploy.UPDATE_KEY not in [p for p, _d in files]:
        # the new version keeps taking updates: the signer's public key goes with it
        with open(a.key + ".pub", "rb") as f:
            files.append((deploy.UPDATE_KEY, f.read()))
    b = body(files, a.board, a.version, a.minimum)
    data = pack(b, sign_file(a.key, message(b)), files)
    with open(a.out, "wb") as f:
        f.write(data)
    n = len(data)
    print("%s: %s %s (minimum %s), %d bytes, signed" % (a.out, a.board, a.version, a.minimum, n))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
