# The register's record formats in the journal: what kkm.register writes
# and what kkm.recovery, kkm.returns and ofd.port read back. Only formats;
# no state and no imports of the register (docs/register.md).

import struct

from compat import const
from journal import ACK_ROOM, LAST_SEQ

# record types of the register (the journal owns 0..15)
R_RECEIPT = const(16)  # need_ack: doc_header + doccodec.encode_receipt()
R_PLACEMENT = const(17)  # need_ack: doc_header + doccodec.encode_placement()
R_ZDOC = const(18)  # need_ack: doc_header + z_body(open time, doccodec.encode_z(...))
R_SIGN = const(19)  # autonomous fiscal sign of an offline document (sign_payload)
R_OPEN = const(20)  # a receipt was opened (tells recovery one was lost)
R_AUDIT = const(21)  # event, user code, detail: login, failure, lockout, abandon, OFD order, ...
R_SETTINGS = const(22)  # user code + Settings.encode() after each change
R_USERS = const(23)  # Auth.encode() after each change of users
R_SESSION = const(24)  # the OFD session (pack_session), before the client uses it

KIND = {R_RECEIPT: "receipt", R_PLACEMENT: "placement", R_ZDOC: "z"}

# audit events of the register (kkm.auth owns 1..15)
EV_SETTINGS = const(20)
EV_CLOCK = const(21)
EV_ABANDON = const(22)
EV_OFD_ORDER = const(23)  # <HB lock code, on
EV_RECOVERY = const(25)
EV_FISCALISED = const(26)
EV_PRINT_FAIL = const(27)
EV_TOKEN = const(28)  # a token entered (KZ-41): <I token
EV_SET_ASIDE = const(29)  # a refused document set aside: <IH seq, result code
# a failed-login audit record written into the reserve (event | AUTH_RESERVED)
AUTH_RESERVED = const(0x80)

# a set-aside document's ACK payload: ASIDE_ACK + b"<code>:<user>" (no fiscal sign)
ASIDE_ACK = b"refused:"
ACK_CHANNEL = b"\x1e"  # separates the sign and the channel in an ACK (never in a sign)

SESSION_ROOM = const(36)  # payload of an R_SESSION record, at most
SIGN_ROOM = const(18)  # payload of an R_SIGN record
SIGN_SCAN = const(16)  # records looked at after a document for its R_SIGN or ACK
MAX_OFFLINE_NUMBER = LAST_SEQ  # uint32 of the protocol (section 1)
_HDR = "<II"  # shift number, document number in the shift
Z_OPENED = const(0x5B)  # first byte of an R_ZDOC body: the shift's open time follows


def autonomous_sign(doc_seq):
    # KZ-29.3, KZ-30.3, KZ-34(1): the journal sequence of the document in
    # decimal (never reused over the life of the log): printed, in the QR
    # code (i=) and sent as offline_ticket_number, so the OFD's check page
    # finds it; the protocol's uint32 bounds it
    return "%d" % doc_seq


def doc_header(shift_no, number):
    return struct.pack(_HDR, shift_no, number)


def split_doc(payload):
    shift_no, number = struct.unpack_from(_HDR, payload, 0)
    return shift_no, number, bytes(payload[8:])


def z_body(open_ts, stamped):
    # the Z record's body: the shift's open time (its first document's), so
    # the OFD request built from the record is the same on every attempt
    return struct.pack("<BI", Z_OPENED, open_ts) + stamped


def split_z(body):
    # -> (open time, the doccodec.encode_z body)
    if len(body) < 5 or body[0] != Z_OPENED:
        raise ValueError("z record")
    return struct.unpack_from("<I", body, 1)[0], bytes(body[5:])


def ack_payload(sign, channel=None):
    # an ACK's payload after its document's seq: the OFD's fiscal sign, then
    # ACK_CHANNEL and the name of the channel that carried it (KZ-18) when
    # both fit in the ACK's room (the sign always does)
    s = sign.encode()
    if not channel or len(s) + 1 + len(channel) > ACK_ROOM - 4:
        return s
    return s + ACK_CHANNEL + channel.encode()


def split_ack(p):
    # an ACK payload after the seq -> (sign, channel or None)
    p = bytes(p)
    i = p.find(ACK_CHANNEL)
    if i < 0:
        return p.decode(), None
    return p[:i].decode(), p[i + 1:].decode()


def sign_payload(doc_seq, sign):
    return struct.pack("<I", doc_seq) + sign.encode()


def sign_of(acc, doc_seq):
    # the autonomous sign journalled for a document (its R_SIGN comes a few
    # records after it, before the next document), or None: not issued
    # offline (or its sign is not written yet)
    if doc_seq >= acc.last_seq:
        return None  # nothing after it: no scan
    n = 0
    for seq, rtype, ts, p in acc.records(doc_seq + 1):
        if rtype == R_SIGN and len(p) >= 4 and struct.unpack_from("<I", p, 0)[0] == doc_seq:
            return bytes(p[4:]).decode()
        if rtype == R_RECEIPT or rtype == R_PLACEMENT or rtype == R_ZDOC:
            return None
        n += 1
        if n >= SIGN_SCAN:
            return None
    return None


class Paper:
    # a fiscal document's paper (kkm.register.paper_check): printed, the
    # printer's job while it prints, whether a part of a failed one reached
    # the paper, and a failure waiting for the printer to be ready again
    def __init__(self, seq, printed):
        self.seq = seq
        self.printed = printed
        self.job = None
        self.started = False
        self.reprint = False


class Fiscalised(Paper):
    # a settled fiscal document, for the UI: its sign is in the journal
    # unless journalled is False (counted; the sign is completed at a boot)
    def __init__(self, seq, number, shift_no, ts, sign, offline, doc, printed):
        Paper.__init__(self, seq, printed)
        self.number = number
        self.shift_no = shift_no
        self.ts = ts
        self.fiscal_sign = sign
        self.offline = offline
        self.doc = doc
        self.journalled = True


# --- the checkpoint's state (journal CHECKPOINT payload) ---------------------
# head: version, flags, shift open time, shift start, documents in the shift,
# last document time; then the settings and users records' seqs, the OFD
# session record's payload, the password lockouts, the counters

_CP = "<BBIIII"
_CP_VERSION = const(2)
CP_OPEN = const(1)
CP_SUSPEND = const(2)
CP_MISMATCH = const(4)
CP_TOKEN = const(8)  # INVALID_TOKEN: the OFD refused the token


def pack_checkpoint(flags, open_ts, start, doc_no, last_ts, settings_seq, users_seq, session, locks, counters):
    head = struct.pack(_CP, _CP_VERSION, flags, open_ts, start, doc_no, last_ts)
    return b"".join((head, struct.pack("<IIH", settings_seq, users_seq, len(session)), session, locks, counters))


def unpack_checkpoint(data):
    # -> (flags, open_ts, start, doc_no, last_ts, settings_seq, users_seq,
    # session or None, offset of the lockouts); ValueError: not a checkpoint
    v, flags, open_ts, start, doc_no, last_ts = struct.unpack_from(_CP, data, 0)
    if v != _CP_VERSION:
        raise ValueError("checkpoint")
    p = struct.calcsize(_CP)
    s_seq, u_seq, n = struct.unpack_from("<IIH", data, p)
    p += 10
    sess = bytes(data[p : p + n]) if n else None
    return flags, open_ts, start, doc_no, last_ts, s_seq, u_seq, sess, p + n


# --- the OFD session (R_SESSION payload) --------------------------------------
# version, token, reqnum, flags (1: pending, 2: done, 4: offline since), then
# (key, command, reqnum, token) of the request owed an answer and of the last
# one answered, then the start of the offline period; the request bytes are
# not kept: they are rebuilt from the journalled document (key: its seq)

_SESS_VERSION = const(1)
_F_PENDING = const(1)
_F_DONE = const(2)
_F_SINCE = const(4)
_NOKEY = const(0xFFFFFFFF)


def pack_session(st, since=None):
    # a session state dict (token, reqnum, pending_key, pending (data,
    # command, reqnum, token) or None, done (key, command, reqnum, token) or
    # None) and the offline period's start -> bytes
    flags = 0
    tail = b""
    p = st.get("pending")
    if p is not None:
        flags |= _F_PENDING
        k = st.get("pending_key")
        tail += struct.pack("<IHHI", _NOKEY if k is None else k, p[1], p[2], p[3])
    d = st.get("done")
    if d is not None:
        flags |= _F_DONE
        tail += struct.pack("<IHHI", d[0], d[1], d[2], d[3])
    if since is not None:
        flags |= _F_SINCE
        tail += struct.pack("<I", since)
    return struct.pack("<BIHB", _SESS_VERSION, st["token"], st["reqnum"], flags) + tail


def unpack_session(b):
    # bytes -> (token, reqnum, pending (key, command, reqnum, token) or None,
    # done (the same) or None, offline since or None); ValueError when not a
    # session
    if len(b) < 8 or b[0] != _SESS_VERSION:
        raise ValueError("session")
    v, token, reqnum, flags = struct.unpack_from("<BIHB", b, 0)
    p = 8
    pend = done = since = None
    if flags & _F_PENDING:
        pend = struct.unpack_from("<IHHI", b, p)
        p += 12
        if pend[0] == _NOKEY:
            pend = (None, pend[1], pend[2], pend[3])
    if flags & _F_DONE:
        done = struct.unpack_from("<IHHI", b, p)
        p += 12
    if flags & _F_SINCE:
        since = struct.unpack_from("<I", b, p)[0]
    return token, reqnum, pend, done, since
