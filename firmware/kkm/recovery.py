# Boot-time recovery of the register's state from the accumulator.
#
# The register's RAM state (settings, users, counters, shift, flags) is
# rebuilt from the latest checkpoint plus every register record after it,
# counting each document exactly as the live register does (apply_doc).
# A power cut can leave, at the end of the journal:
#   - a document without its fiscal-sign record (cut during or after the
#     OFD exchange): the document is in the journal, so it exists; it is
#     completed with an autonomous fiscal sign (the OFD gets it from the
#     queue later), counted, and the cashier is told it was restored;
#   - an opened receipt with no document record: it never became fiscal; it
#     is dropped and the cashier is told so;
#   - a Z document whose Z-area entry, counter reset or checkpoint did not
#     happen: the remaining steps are done now (KZ-ND-29 order).
# Besides documents, the replay restores the latest OFD session record
# (reg.ofd_session, for ofd.port) and the password failure counts and
# lockouts (kkm.auth.Auth.replay); the checkpoint carries both. The last
# receipt or placement (reg.last, for a copy) comes back with the sign
# stored for it: its R_SIGN, or the OFD's in its ACK.
# A torn last record is the accumulator's business: it is ignored there.

import struct

from journal import ACK, JournalCorrupt, JournalError
from kkm import counters as C
from kkm import document as D
from kkm import doccodec as DC
from kkm import locks as L
from kkm import records as R

NONE = "none"
RESTORED = "restored"
DROPPED = "dropped"


class Report:
    def __init__(self):
        self.receipt = NONE  # NONE, RESTORED or DROPPED
        self.number = None  # the restored document's number in its shift
        self.seq = None
        self.replayed = 0  # documents counted after the checkpoint
        self.z_finished = False  # a Z was completed by recovery
        self.damaged = None  # seq of the first record that did not read back (KZ-3.3)


def load_state(reg, data):
    flags, open_ts, start, doc_no, last_ts, s_seq, u_seq, sess, p = R.unpack_checkpoint(data)
    reg.settings.load(reg.acc.read(s_seq)[2][1:])
    reg.auth.load(reg.acc.read(u_seq)[2])
    p = reg.auth.load_locks(data, p)
    reg.counters = C.ShiftCounters.decode(bytes(data[p:]))
    reg.ofd_session = sess
    reg.shift_open = bool(flags & R.CP_OPEN)
    reg.shift_open_ts = open_ts
    reg.shift_start = start if start else None
    reg.doc_no = doc_no
    reg.last_doc_ts = last_ts
    for f, code in ((R.CP_SUSPEND, L.OFD_SUSPEND), (R.CP_MISMATCH, L.DATA_MISMATCH), (R.CP_TOKEN, L.INVALID_TOKEN)):
        if flags & f:
            reg.locks.set(code)


def _decode(rtype, body):
    if rtype == R.R_RECEIPT:
        return DC.decode_receipt(body)
    return DC.decode_placement(body)


def _intact(acc, since, rep):
    # the records after the checkpoint up to the first damaged one
    if since is None:
        return  # no state to count from
    try:
        for x in acc.records(since):
            yield x
    except JournalCorrupt as e:
        rep.damaged = e.args[1] if len(e.args) > 1 else since


def restore(reg):
    acc = reg.acc
    rep = Report()
    reg._quiet = True
    since = 0
    cp = acc.last_checkpoint()
    if cp is not None:
        try:
            load_state(reg, acc.read(cp)[2])
            since = cp
        except JournalCorrupt as e:
            rep.damaged = e.args[1] if len(e.args) > 1 else cp
            since = None
    pending = None  # [seq, rtype, ts, doc, number, shift_no, sign or None]
    opened = False

    def settle(p):
        # a document whose fiscal sign we have seen (offline), or that the
        # OFD acknowledged (online: the ACK is the journal's own record)
        seq, rtype, ts, doc, number, shift_no, sign = p
        if sign is not None:
            offline = True
        elif not acc.is_unacked(seq):
            offline = False
        else:
            return False
        reg.apply_doc(rtype, doc, offline, ts)
        rep.replayed += 1
        reg.last = R.Fiscalised(seq, number, shift_no, ts, sign, offline, doc, True)
        return True

    for seq, rtype, ts, payload in _intact(acc, since, rep):
        if seq <= since:
            continue
        if rtype == R.R_SIGN:
            (dseq,) = struct.unpack_from("<I", payload, 0)
            if pending is not None and pending[0] == dseq:
                pending[6] = bytes(payload[4:]).decode()
                settle(pending)
                pending = None
            continue
        if rtype in (R.R_RECEIPT, R.R_PLACEMENT, R.R_ZDOC, R.R_OPEN) and pending is not None:
            if not settle(pending):
                # neither signed nor acknowledged before the next document:
                # its sign record did not fit (the log was full); it was
                # counted offline with its autonomous sign, and so it is now
                pending[6] = R.autonomous_sign(pending[0])
                settle(pending)
            pending = None
        if rtype == R.R_RECEIPT or rtype == R.R_PLACEMENT:
            shift_no, number, body = R.split_doc(payload)
            doc = _decode(rtype, body)
            pending = [seq, rtype, ts, doc, number, shift_no, None]
            if rtype == R.R_RECEIPT:
                opened = False
        elif rtype == R.R_ZDOC:
            shift_no, number, body = R.split_doc(payload)
            del body
            reg.finish_z(shift_no, ts, False)
            rep.z_finished = True
        elif rtype == R.R_OPEN:
            opened = True
        elif rtype == R.R_SETTINGS:
            reg.settings.load(payload[1:])
        elif rtype == R.R_USERS:
            reg.auth.load(payload)
        elif rtype == R.R_SESSION:
            reg.ofd_session = payload  # the latest OFD session (ofd.port)
            reg.token_entry = None  # a token entered before it is in it
        elif rtype == R.R_AUDIT:
            ev = payload[0]
            if ev & R.AUTH_RESERVED:
                # a failed login journalled in the reserve (register._audit)
                ev &= ~R.AUTH_RESERVED
                u = payload[1]
                reg.auth_spent[u] = reg.auth_spent.get(u, 0) + 1
            if ev < 16:  # kkm.auth's events: failure counts and lockouts
                reg.auth.replay(ev, payload[1], payload[2:], ts)
            elif ev == R.EV_ABANDON or ev == R.EV_RECOVERY:
                opened = False
            elif ev == R.EV_OFD_ORDER:
                code, on = struct.unpack_from("<HB", payload, 2)
                if on:
                    reg.locks.set(code)
                else:
                    reg.locks.clear(code)
            elif ev == R.EV_TOKEN:
                # a token entered (KZ-41): the settings hold it, the lock it
                # ends is off, and unless an R_SESSION follows (the port
                # took it) the port takes it at bind (Register._enter_token)
                (tok,) = struct.unpack_from("<I", payload, 2)
                reg.settings.v["token"] = tok
                reg.token_entry = tok
                reg.locks.clear(L.INVALID_TOKEN)
    reg._quiet = False
    if rep.damaged is not None:
        # KZ-3.3: the state is incomplete and the journal does not read back
        # whole: nothing is completed or written; the lock stays until a
        # boot replays the journal whole (service, docs/register.md)
        reg.locks.set(L.ACC_INTEGRITY, "record lost")
        return rep
    if pending is not None and not settle(pending):
        # the document is journalled but its sign is not: complete it offline
        seq, rtype, ts, doc, number, shift_no, _ = pending
        sign = R.autonomous_sign(seq)
        journalled = True
        try:
            # its room was kept when the document was accepted: the reserve
            # may take it (a full log must not leave it unsigned)
            reg._append(R.R_SIGN, R.sign_payload(seq, sign), False, True)
        except L.Locked:
            journalled = False  # full: counted now, signed at a later boot
        reg.apply_doc(rtype, doc, True, ts)
        reg.last = R.Fiscalised(seq, number, shift_no, ts, sign, True, doc, False)
        reg.last.journalled = journalled
        rep.replayed += 1
        rep.receipt = RESTORED
        rep.number = number
        rep.seq = seq
        reg.notices.append(L.N_RESTORED)
        reg.notices.append(L.N_OFFLINE)
        opened = False
    if opened:
        rep.receipt = DROPPED
        reg.notices.append(L.N_DROPPED)
        try:
            # said once: this record ends the open receipt for later boots;
            # the room its document was accepted with takes it
            reg._append(R.R_AUDIT, bytes([R.EV_RECOVERY, 0]) + b"d", False, True)
        except L.Locked:
            pass  # the lock says why
    if rep.z_finished:
        try:
            # the Z's own checkpoint (from its reserve): without it the
            # closed shift's records stay the restore point
            reg.checkpoint(True)
        except L.Locked:
            pass  # the lock says why; the records replay again next boot
    # the last document for a copy (copy_last), also when a checkpoint
    # followed it, with the sign stored for it
    last = reg.last
    if last is None:
        if cp is not None:
            reg.last = _document_before(acc, cp)
    elif last.fiscal_sign is None:
        last.fiscal_sign = ack_sign(acc, last.seq)
    return rep


def _document_before(acc, cp):
    # the receipt or placement just before checkpoint cp (one is written
    # after every CHECKPOINT_EVERY-th document), as Fiscalised, or None
    # (none there, or a Z was the last document)
    doc = sign = None
    try:
        for seq, rtype, ts, p in acc.records(max(cp - R.SIGN_SCAN, 1)):
            if seq >= cp:
                break
            if rtype == R.R_RECEIPT or rtype == R.R_PLACEMENT or rtype == R.R_ZDOC or rtype == R.R_OPEN:
                doc = (seq, rtype, ts, p)
                sign = None
            elif rtype == R.R_SIGN and doc is not None and struct.unpack_from("<I", p, 0)[0] == doc[0]:
                sign = bytes(p[4:]).decode()
    except JournalError:  # reused by the ring
        return None
    if doc is None or (doc[1] != R.R_RECEIPT and doc[1] != R.R_PLACEMENT):
        return None
    seq, rtype, ts, p = doc
    offline = sign is not None
    if not offline:
        sign = ack_sign(acc, seq)
        if sign is None:
            return None
    shift_no, number, body = R.split_doc(p)
    return R.Fiscalised(seq, number, shift_no, ts, sign, offline, _decode(rtype, body), True)


def ack_sign(acc, doc_seq):
    # the OFD's fiscal sign of a document acknowledged online: the payload of
    # its ACK, which follows it within a few records (register._send), or
    # None
    for seq in range(doc_seq + 1, min(doc_seq + R.SIGN_SCAN, acc.last_seq) + 1):
        rtype, ts, p = acc.read(seq)
        if rtype == ACK and struct.unpack_from("<I", p, 0)[0] == doc_seq:
            return R.split_ack(p[4:])[0]
    return None
