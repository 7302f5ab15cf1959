# An update package of the service centre (KZ-43.1), read as it streams in:
#
#   MAGIC  u32 length  BODY  u32 length  SIGNATURE  FILE FILE ...
#
# BODY is text: the header lines "board B", "version V", "minimum M", an
# empty line, then one line "<sha-256 hex> <size> <path>" per module of
# the code folder (paths relative to it, in the order the files follow).
# The signature (fleet.sign, LMS) is over SHA-256(BODY), so the header and
# every file's hash are signed; each file is hashed as it is written.
#
#   await receive(read, board, running, key, root="") -> Header
#       read(n): an awaitable of exactly n bytes of the package; board: the
#       register's board name; running: its version; key: the provisioned
#       public key. Stages the modules as update.NEW with their hash manifest
#       (firmware/integrity.py), or raises Refused(why, text code) and
#       leaves nothing staged. Never holds more than a chunk of a file.
#
# Refused: not a package, unsigned, wrongly signed, for another board, not
# newer than the running version (no downgrade), needing a newer running
# version than this one (minimum), a file that does not match its hash.

import hashlib
import os

import integrity
import update
from compat import const, exists, hexdigest
from fleet import sign
from kkm import texts

MAGIC = b"KKMPKG1\n"
MANIFEST = integrity.MANIFEST
BODY = "update.body"  # the body while a package is received
MAX_BODY = const(32768)  # a few hundred modules
MAX_SIG = const(8192)
CHUNK = const(512)

# why a package was refused (English, the service log) and what the cashier reads
NOT_PACKAGE = "not an update package"
UNSIGNED = "unsigned"
BAD_SIGNATURE = "signature does not match the service centre's key"
OTHER_BOARD = "built for another board"
NOT_NEWER = "not newer than the running version"
BELOW_MINIMUM = "needs a newer running version first"
TAMPERED = "file does not match its signed hash: "

T_REFUSED = const(901)  # the package is refused (the log says why)
T_BAD_SIGNATURE = const(902)
T_OLD = const(903)
T_WAITING = const(904)  # staged: applied when the shift is closed and the OFD has every document
T_APPLYING = const(905)
T_ROLLED_BACK = const(906)
T_CONFIRMED = const(907)

_TEXTS = (
    T_REFUSED, "Жаңарту қабылданбады", "Обновление отклонено",
    T_BAD_SIGNATURE, "Жаңарту қолтаңбасы жарамсыз", "Подпись обновления неверна",
    T_OLD, "Жаңарту нұсқасы ескі", "Версия обновления устарела",
    T_WAITING, "Жаңарту ауысым жабылғанда орнатылады", "Обновление установится после закрытия смены",
    T_APPLYING, "Жаңарту орнатылуда", "Установка обновления",
    T_ROLLED_BACK, "Жаңарту кері қайтарылды", "Обновление отменено",
    T_CONFIRMED, "Жаңарту орнатылды", "Обновление установлено",
)
texts.add_table(_TEXTS, 3)


class Refused(Exception):
    # args: (why in English, the text code for the display)
    pass


class Header:
    def __init__(self, board, version, minimum):
        self.board = board
        self.version = version
        self.minimum = minimum


def version_key(v):
    # "1.10.2" -> (1, 10, 2): compared as numbers; None when malformed
    try:
        parts = tuple(int(p) for p in v.split("."))
    except (ValueError, AttributeError):
        return None
    return parts if parts and min(parts) >= 0 else None


def newer(v, than):
    a = version_key(v)
    b = version_key(than)
    return a is not None and b is not None and a > b


def _u32(b):
    return int.from_bytes(b, "big")


def _lines(path):
    # the body's lines, one at a time
    with open(path) as f:
        for line in f:
            yield line.rstrip("\n")


def header(lines):
    # the Header of a body's lines (up to the empty one), or Refused
    f = {}
    for line in lines:
        if not line:
            break
        k, _, v = line.partition(" ")
        f[k] = v
    h = Header(f.get("board"), f.get("version"), f.get("minimum", "0"))
    if h.board is None or version_key(h.version) is None or version_key(h.minimum) is None:
        raise Refused(NOT_PACKAGE, T_REFUSED)
    return h


def entries(path):
    # (hex, size, path) of every module the body lists
    body = False
    for line in _lines(path):
        if not body:
            body = not line
            continue
        try:
            hx, size, name = line.split(" ", 2)
            size = int(size)
        except ValueError:
            raise Refused(NOT_PACKAGE, T_REFUSED)
        if len(hx) != 64 or not name or name[0] == "/" or ".." in name.split("/") or name == MANIFEST:
            raise Refused(NOT_PACKAGE, T_REFUSED)
        yield hx, size, name


async def _body(read, path):
    # the body into path, hashed as it goes -> its SHA-256
    n = _u32(await read(4))
    if n > MAX_BODY:
        raise Refused(NOT_PACKAGE, T_REFUSED)
    h = hashlib.sha256()
    with open(path, "wb") as f:
        while n:
            b = await read(min(n, CHUNK))
            h.update(b)
            f.write(b)
            n -= len(b)
    return h.digest()


def check(h, board, running):
    # the header's rules against the register: board, no downgrade, minimum
    if h.board != board:
        raise Refused(OTHER_BOARD + ": " + str(h.board), T_REFUSED)
    if not newer(h.version, running):
        raise Refused(NOT_NEWER + ": " + h.version, T_OLD)
    if newer(h.minimum, running):
        raise Refused(BELOW_MINIMUM + ": " + h.minimum, T_OLD)


def _mkdirs(folder, name):
    parts = name.split("/")[:-1]
    for i in range(len(parts)):
        d = folder + "/" + "/".join(parts[: i + 1])
        if not exists(d):
            os.mkdir(d)


async def _files(read, body, folder):
    # every module into folder, each hashed as it streams; the manifest last
    with open(folder + "/" + MANIFEST, "w") as man:
        for hx, size, name in entries(body):
            _mkdirs(folder, name)
            h = hashlib.sha256()
            with open(folder + "/" + name, "wb") as f:
                while size:
                    b = await read(min(size, CHUNK))
                    h.update(b)
                    f.write(b)
                    size -= len(b)
            if hexdigest(h) != hx:
                raise Refused(TAMPERED + name, T_REFUSED)
            man.write(hx + " " + name + "\n")


async def receive(read, board, running, key, root=""):
    body = root + BODY
    stage = root + update.NEW
    update.remove_tree(stage)
    try:
        if await read(len(MAGIC)) != MAGIC:
            raise Refused(NOT_PACKAGE, T_REFUSED)
        digest = await _body(read, body)
        n = _u32(await read(4))
        if not n:
            raise Refused(UNSIGNED, T_BAD_SIGNATURE)
        if n > MAX_SIG:
            raise Refused(BAD_SIGNATURE, T_BAD_SIGNATURE)
        if not await sign.verify_async(key, digest, await read(n)):
            raise Refused(BAD_SIGNATURE, T_BAD_SIGNATURE)
        h = header(_lines(body))
        check(h, board, running)
        os.mkdir(stage)
        await _files(read, body, stage)
        return h
    except BaseException:
        update.remove_tree(stage)  # nothing half-staged
        raise
    finally:
        if exists(body):
            os.remove(body)
