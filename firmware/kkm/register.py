# The register: the sale state machine that ties the accumulator (journal),
# documents, counters, locks, users and settings to the printer. Every
# fiscal event is written to the accumulator before anything else happens,
# and a document's life is split in two so that nothing waits on the
# network in between (docs/register.md):
#
#   issue:  pay / fiscalise / deposit / withdraw / close_shift: validate +
#           locks -> append(document, need_ack) -> Issued
#   settle: settle(issued, answer): the OFD's Accepted answer as the
#           document's ACK, or (None) the SIGN record with the autonomous
#           fiscal sign (the document stays queued) -> counters -> print;
#           a Z: Z area, counters reset (KZ-ND-29), checkpoint, print
#
# The register never calls the OFD: ofd.sender sends the issued document
# (or leaves it behind the queue), settles it and acknowledges queued ones
# (acknowledge). Nothing prints a fiscal sign that is not in the journal.
# The state in RAM (counters, shift, settings, users) is always what the
# journal says: after a power cut kkm.recovery rebuilds it from the latest
# checkpoint and the records after it (a document issued and not settled
# gets its autonomous sign there).
#
# Ports (duck-typed, injected): printer.status() -> "ok" | "no_paper" |
# "fault", printer.print(lines); ofd: the register's OFD port (ofd.port,
# which only ofd.sender drives) or None.

import struct

from compat import const, is_int
from journal import JournalFull, JournalError, ACK_ROOM, ZMARK_LEN, CUT_SECTORS
from kkm import auth as A
from kkm import counters as C
from kkm import document as D
from kkm import doccodec as DC
from kkm import layout
from kkm import locks as L
from kkm import records as RC
from kkm import texts as T
from kkm.records import (R_RECEIPT, R_PLACEMENT, R_ZDOC, R_SIGN, R_OPEN, R_AUDIT, R_SETTINGS, R_USERS, R_SESSION,
                         EV_SETTINGS, EV_CLOCK, EV_ABANDON, EV_OFD_ORDER, EV_FISCALISED, EV_PRINT_FAIL, EV_TOKEN,
                         EV_SET_ASIDE, AUTH_RESERVED, ASIDE_ACK, SESSION_ROOM, SIGN_ROOM, KIND, Fiscalised, Paper,
                         autonomous_sign, doc_header, split_doc, z_body, sign_of, sign_payload, ack_payload)
from kkm.settings import Settings, check_clock

PRINTER_OK = "ok"
PRINTER_NO_PAPER = "no_paper"

CHECKPOINT_EVERY = const(50)  # documents between checkpoints (recovery time)
# The accumulator's reserve (journal: acc.reserve, acc.doc_reserve): what
# must still fit when sales stop (ACC_FULL): per queued document its ACK and
# the two OFD session records of its exchange; for the shift close the Z
# document with its ACK and session records, the Z marker, the settings and
# users records and the checkpoint written after it (sizes taken from the
# state now, plus room for the counters to grow with the next document).
DOC_ROOM = const(600)  # a document of unknown size (open_receipt, locks)
GROW_ROOM = const(256)
Z_STAMP_ROOM = const(17)  # a Z's stamps besides the operator's name (z_body, kkm.doccodec.encode_z)
# Failed-login audit records (a wrong password, a lockout) that the full
# log refuses go into the reserve: a share of AUTH_SHARE records (one
# lockout cycle: five failures and the lockout) per user, flagged in the
# record (event | AUTH_RESERVED) so that recovery counts what was spent
AUTH_ROOM = const(6)  # payload of a failure or lockout audit record, at most
AUTH_SHARE = const(6)


class Issued:
    # a fiscal document journalled (write-ahead) and not yet signed: the
    # sender sends it, or leaves it queued, and hands it to Register.settle
    def __init__(self, rtype, seq, payload, doc, number, shift_no, ts, queued, lang):
        self.rtype = rtype
        self.kind = KIND[rtype]
        self.seq = seq
        self.payload = payload  # the journal record: what the OFD request is built from
        self.doc = doc  # Receipt or Placement; None for a Z
        self.number = number
        self.shift_no = shift_no
        self.ts = ts
        self.queued = queued  # documents waited before it: it goes behind them
        self.lang = lang


class Accepted:
    # the OFD's answer to a document as settle needs it: its fiscal sign
    # (placements and Z: "ack:<request number>") and, for a Z, the OFD's Z
    # report in the shape kkm.layout prints (or None); channel: the name of
    # the channel that carried it (journalled with the ACK), or None
    def __init__(self, sign, report=None, channel=None):
        self.sign = sign
        self.report = report
        self.channel = channel


class ZPaper(Paper):
    # the paper of a Z report (KZ-6, Register.paper_check): seq of its
    # document and the report as printed
    def __init__(self, seq, report, lang):
        Paper.__init__(self, seq, False)
        self.report = report
        self.lang = lang


def _copy(paper):
    # a second paper, or one after a part reached (or may be reaching) the
    # paper, says it is a copy
    return paper.printed or paper.started or paper.job is not None


class Register:
    def __init__(self, acc, printer, ofd, clock, firmware_ok=True, hw_test=None, sw_test=None, catalog=None):
        self.acc = acc
        self.printer = printer
        self.ofd = ofd
        self.clock = clock
        self.locks = L.Locks()
        self.settings = Settings(clock.now)
        self.auth = A.Auth(clock, self._audit)
        self.counters = C.ShiftCounters()
        self.shift_open = False
        self.shift_open_ts = 0  # first document of the shift
        self.shift_start = None  # completion of the first payment document (KZ-14)
        self.doc_no = 0  # documents in this shift
        self.last_doc_ts = 0
        self.since_cp = 0
        self.draft = None
        self.unsettled = None  # the Issued document until settle
        self.returnable = None  # kkm.returns.Returnable of the open return (open_return)
        self.last = None  # Fiscalised, for a copy
        self.z_paper = None  # ZPaper: the last Z report's paper
        self.x_source = None  # the last X printed: "ofd" or "own" (x_report)
        self.z_source = None  # the last Z printed: "ofd" or "own" (close_shift)
        self.notices = []  # text codes for the cashier (KZ-29.2, recovery)
        self.ofd_texts = None  # KZ-17: ofd.texts.OfdTexts from the first text on
        self.recovery = None  # what boot found: kkm.recovery.Report
        self.ofd_session = None  # payload of the latest R_SESSION (ofd.port)
        self.catalog = catalog  # kkm.catalog.Catalog, the National Catalogue cache (None: made at first use)
        # a token entered in the settings that the OFD session has not taken
        # yet (the port journals it as the session token before use)
        self.token_entry = None
        self._sizes = [0, 0]  # last R_SETTINGS, R_USERS payload lengths (0: unknown)
        self._quiet = False  # no audit records while replaying the journal
        self.auth_spent = {}  # user code -> reserve share used since the last checkpoint
        acc.doc_reserve = (ACK_ROOM, SESSION_ROOM, SESSION_ROOM)
        acc.cut_sectors = CUT_SECTORS  # the reserve outlives power cuts
        from kkm import recovery

        self.recovery = recovery.restore(self)
        clock.offset = self.settings.get("tz_offset")  # local time: one source
        self._boot_checks(firmware_ok, hw_test, sw_test)

    # --- journal helpers -------------------------------------------------

    def _append(self, rtype, payload, need_ack=False, reserve=False, ts=None):
        # ts: the document's own time (the one its rates were chosen for and
        # that is printed); None: now
        if rtype == R_SETTINGS or rtype == R_USERS:
            self._sizes[rtype - R_SETTINGS] = len(payload)  # for the reserve
        try:
            return self.acc.append(rtype, payload, self.clock.now() if ts is None else ts, need_ack, reserve)
        except JournalFull:
            self.locks.set(L.ACC_FULL)
            raise L.Locked(L.ACC_FULL, [L.ACC_FULL])
        except JournalError:
            self.locks.set(L.ACC_FAULT)
            raise L.Locked(L.ACC_FAULT, [L.ACC_FAULT])

    def _audit(self, event, user, detail=b""):
        if self._quiet:
            return
        if isinstance(detail, str):
            detail = detail.encode()
        rec = bytes([event, user & 0xFF]) + detail[:64]
        try:
            self._append(R_AUDIT, rec)
        except L.Locked:
            # a full or failed accumulator is already a lock; the audit trail
            # must not also stop the login that leads to the shift close.
            # A failure that counts towards a lockout (KZ-1) must survive a
            # reboot: it goes into the user's share of the reserve
            if event == A.EV_LOCKOUT or (event == A.EV_LOGIN_FAIL and len(detail) > 1
                                         and detail[1] == A.WHY_PASSWORD):
                self._audit_reserved(rec, user)

    def _audit_reserved(self, rec, user):
        sp = self.auth_spent
        n = sp.get(user, 0)
        if n >= AUTH_SHARE:
            return
        try:
            self._append(R_AUDIT, bytes([rec[0] | AUTH_RESERVED]) + rec[1:], False, True)
            sp[user] = n + 1
        except L.Locked:
            sp[user] = AUTH_SHARE  # not even the reserve: refuse its next attempts

    def _login_recordable(self, code):
        # KZ-1: a wrong password must be journalled, or a reboot would
        # forget the failure count and lockout. With the log full (and the
        # user's share of the reserve spent) a password is not even checked
        u = self.auth.users.get(code)
        now = self.clock.now()
        if u is None or u.locked_until > now:
            return True  # refused without a counted failure
        need = 2 if u.fails >= A.MAX_FAILS - 1 else 1  # the failure, the lockout
        if AUTH_SHARE - self.auth_spent.get(code, 0) >= need:
            return True
        self._set_reserve()
        return self.acc.can_append((AUTH_ROOM,) * need, now)

    def checkpoint(self, reserve=False):
        # reserve=True: the checkpoint after a Z, which the reserve covers;
        # any other one is refused (ACC_FULL) rather than eat into it
        sb = b"\x00" + self.settings.encode()
        ub = self.auth.encode()
        if not reserve:
            n = len(self._state(0, 0))
            if not self.acc.can_append((len(sb), len(ub), n), self.clock.now()):
                raise L.Locked(L.ACC_FULL, [L.ACC_FULL])
        s_seq = self._append(R_SETTINGS, sb, False, reserve)
        u_seq = self._append(R_USERS, ub, False, reserve)
        self.acc.checkpoint(self._state(s_seq, u_seq), self.clock.now())
        self.since_cp = 0
        self.auth_spent = {}  # recovery counts the shares from the checkpoint on

    def _state(self, settings_seq, users_seq):
        # the checkpoint: shift state and counters; settings and users are
        # the records written just before it (kkm.recovery reads it back)
        flags = RC.CP_OPEN if self.shift_open else 0
        for f, code in ((RC.CP_SUSPEND, L.OFD_SUSPEND), (RC.CP_MISMATCH, L.DATA_MISMATCH),
                        (RC.CP_TOKEN, L.INVALID_TOKEN)):
            if self.locks.is_set(code):
                flags |= f
        return RC.pack_checkpoint(flags, self.shift_open_ts, self.shift_start or 0, self.doc_no, self.last_doc_ts,
                                  settings_seq, users_seq, self.ofd_session or b"", self.auth.lock_state(),
                                  self.counters.encode())

    def save_session(self, data):
        # the OFD session (token, request number, request owed an answer)
        # as ofd.port encodes it; written before the client uses it
        # and allowed into the reserve (the queue must be able to drain)
        self._append(R_SESSION, data, False, True)
        self.ofd_session = bytes(data)

    # --- accumulator room (KZ-8, KZ-ND-35(3)) ----------------------------

    def _set_reserve(self, grow=GROW_ROOM):
        # the shift-close records as they would be now (see SESSION_ROOM)
        sz = self._sizes
        if not sz[0]:
            sz[0] = 1 + len(self.settings.encode())
        if not sz[1]:
            sz[1] = len(self.auth.encode())
        c = len(self.counters.encode()) + grow
        # checkpoint: state head, record seqs, session, lockouts, counters
        cp = 30 + len(self.ofd_session or b"") + 1 + 6 * len(self.auth.users) + c
        # the Z document: header, the stamp with the longest operator name
        zs = Z_STAMP_ROOM
        for u in self.auth.users.values():
            n = len((D.operator_stamp(u.name) or "").encode())
            if Z_STAMP_ROOM + n > zs:
                zs = Z_STAMP_ROOM + n
        # and each user's unspent share for failed logins
        n = 0
        for code in self.auth.users:
            k = AUTH_SHARE - self.auth_spent.get(code, 0)
            if k > 0:
                n += k
        self.acc.reserve = (8 + zs + c, ACK_ROOM, SESSION_ROOM, SESSION_ROOM, ZMARK_LEN, sz[0], sz[1],
                            cp) + (AUTH_ROOM,) * n

    def _room(self, lens, now):
        # ACC_FULL is decided from the accumulator's room for a document
        # of these record lengths (kkm.locks.acc_full)
        self._set_reserve()
        if L.acc_full(self.acc, lens, now):
            self.locks.set(L.ACC_FULL)
        else:
            self.locks.clear(L.ACC_FULL)

    # --- boot and locks --------------------------------------------------

    def _boot_checks(self, firmware_ok, hw_test, sw_test):
        # KZ-2 at power-on; KZ-3 locks; KZ-43.1 firmware integrity
        if not firmware_ok:
            self.locks.set(L.FIRMWARE)
        if hw_test is not None and not hw_test():
            self.locks.set(L.SELFTEST_HW)
        if sw_test is not None and not sw_test():
            self.locks.set(L.SELFTEST_SW)
        self._acc_test()
        if not self.settings.fiscalised:
            self.locks.set(L.NOT_FISCALISED)
        self._clock_check(self.clock.now())
        self._z_area()

    def _clock_check(self, now):
        # KZ-42, KZ-ND-32: the clock lock stands while the clock is behind
        # the last document, and goes once it is not (set after the Z, or
        # the RTC itself put right); a clock that lost its time (the RTC's
        # oscillator stopped) is CLOCK_LOST alone until the time is set
        lost = self.clock.lost()
        if now < self.last_doc_ts and not lost:
            self.locks.set(L.CLOCK_BAD)
        else:
            self.locks.clear(L.CLOCK_BAD)
        if lost:
            self.locks.set(L.CLOCK_LOST)
        else:
            self.locks.clear(L.CLOCK_LOST)

    def _acc_test(self):
        # a journal the boot could not replay whole stays locked: the state
        # in RAM is incomplete whatever the self-test finds
        r = self.acc.self_test()
        ok = r.ok and self.recovery.damaged is None
        if ok:
            self.locks.clear(L.ACC_INTEGRITY)
        else:
            self.locks.set(L.ACC_INTEGRITY, r.reason)
        return ok

    def journal_readout(self, since=1):
        # KZ-9: the service engineer reads out the journal, also when it is
        # damaged: every record still intact, in journal order
        self.auth.require(A.MODE_SERVICE)
        return self.acc.readout(since)

    def _z_area(self):
        if self.acc.z_slots_left() <= 0:
            self.locks.set(L.Z_AREA_FULL)
        elif self.acc.z_slots_left() <= L.Z_LOW:
            self._notice(L.N_Z_LOW)  # KZ-ND-36

    def _printer(self):
        # KZ-6: no paper or a printer fault locks every printed document
        st = self.printer.status()
        self.locks.clear(L.NO_PAPER)
        self.locks.clear(L.PRINTER_FAULT)
        if st == PRINTER_NO_PAPER:
            self.locks.set(L.NO_PAPER)
        elif st != PRINTER_OK:
            self.locks.set(L.PRINTER_FAULT)

    def active_locks(self):
        self._printer()
        now = self.clock.now()
        self._clock_check(now)
        self._room((5, DOC_ROOM, SIGN_ROOM), now)  # as open_receipt asks
        return self.locks.active(now, self.shift_start, self.acc.oldest_unacked_ts())

    def _require(self, op, lens=None):
        # lens: record payload lengths a payment document or placement
        # would append (ACC_FULL is decided from them); every check counts
        # at least an R_OPEN and a DOC_ROOM document, so the lock is one
        # state for receipts and placements alike
        now = self.clock.now()
        self._clock_check(now)
        self._printer()
        if op == L.OP_PAYMENT or op == L.OP_PLACEMENT:
            self._room(lens or (5, DOC_ROOM, SIGN_ROOM), now)
        self.locks.require(op, now, self.shift_start, self.acc.oldest_unacked_ts())
        return now

    def ofd_order(self, suspend=None, mismatch=None, bad_token=None):
        # KZ-16: the OFD passes on an order to suspend (or resume) work;
        # KZ-76.4: taxpayer / KKM data do not match (or match again);
        # PROTOCOL.md section 12 code 2: the OFD refused the token (True;
        # False: a token was entered). ofd.port relays result codes 15, 1, 2
        # and the result 0 that ends them.
        for flag, code in ((suspend, L.OFD_SUSPEND), (mismatch, L.DATA_MISMATCH), (bad_token, L.INVALID_TOKEN)):
            if flag is None:
                continue
            if flag:
                self.locks.set(code)
            else:
                self.locks.clear(code)
                if code == L.OFD_SUSPEND and L.N_OFD_BLOCKED in self.notices:
                    self.notices.remove(L.N_OFD_BLOCKED)
            self._audit(EV_OFD_ORDER, 0, struct.pack("<HB", code, 1 if flag else 0))

    # --- users -------------------------------------------------------------

    def login(self, code, password, mode):
        if not self._login_recordable(code):
            raise L.Locked(L.ACC_FULL, [L.ACC_FULL])
        return self.auth.login(code, password, mode)

    def logout(self):
        self.auth.logout()

    def set_user(self, code, name, role, password):
        # programming mode; on a register without users the first one may be
        # added without a login (factory state) and must be able to program
        if self.auth.users:
            self.auth.require(A.MODE_PROGRAMMING)
        elif role == A.ROLE_CASHIER:
            raise L.Refused(L.E_NO_RIGHT, role)
        self.auth.set_user(code, name, role, password)
        self._append(R_USERS, self.auth.encode())

    def set_password(self, code, password):
        u = self.auth.require(A.MODE_PROGRAMMING)
        del u
        self.auth.set_password(code, password)
        self._append(R_USERS, self.auth.encode())

    # --- settings and clock (KZ-10(2), KZ-10(3), KZ-40..42) --------------

    def fiscalise_kkm(self, data):
        # KZ-ND-25, KZ-40: the service engineer enters the registration data
        u = self.auth.require(A.MODE_SERVICE)
        self.settings.fiscalise(data, self.clock.now())
        self._append(R_SETTINGS, bytes([u.code]) + self.settings.encode())
        self.clock.offset = self.settings.get("tz_offset")
        self._audit(EV_FISCALISED, u.code)
        self.locks.clear(L.NOT_FISCALISED)

    def change_settings(self, changes):
        # programming mode (administrator, service engineer); all or nothing
        u = self.auth.require(A.MODE_PROGRAMMING)
        self._require(L.OP_SETTINGS)
        keys = self.settings.check(changes, self.shift_open)
        if "token" in keys:
            self._journal_token(u.code, changes["token"])
        if len(keys) > (1 if "token" in keys else 0):  # more than the token
            old = self.settings.v.copy()
            self.settings.change(changes, self.shift_open)
            try:
                self._append(R_SETTINGS, bytes([u.code]) + self.settings.encode())
            except L.Locked:
                self.settings.v = old  # not journalled: not applied
                if "token" in keys:
                    self.settings.v["token"] = changes["token"]  # journalled above
                raise
        self.clock.offset = self.settings.get("tz_offset")
        if "token" in keys:
            self._enter_token()
        self._audit(EV_SETTINGS, u.code, ",".join(keys))
        return keys

    def _journal_token(self, user, token):
        # KZ-41: the token may be entered at any time; PROTOCOL.md section
        # 12: after code 2 nothing is sent until a correct one is. The
        # EV_TOKEN record (who, which token) is the journal of the entry:
        # recovery replays it into the settings, the session (through the
        # port) and the INVALID_TOKEN lock. It is tiny and may use the
        # reserve when the log is full: the queue that keeps the log full
        # drains only with a token the OFD accepts.
        self._append(R_AUDIT, bytes([EV_TOKEN, user & 0xFF]) + struct.pack("<I", token), False, True)
        self.settings.v["token"] = token

    def _enter_token(self):
        # the journalled token replaces the OFD session's: the port writes
        # an R_SESSION with it before its next exchange (ofd.port); the
        # INVALID_TOKEN lock clears
        self.token_entry = self.settings.get("token")
        if self.locks.is_set(L.INVALID_TOKEN):
            self.ofd_order(bad_token=False)

    def set_clock(self, ts, confirm=None):
        u = self.auth.require(A.MODE_CLOCK)
        now = self._require(L.OP_CLOCK)
        check_clock(ts, now, self.last_doc_ts if self.last_doc_ts else None, self.shift_open, confirm)
        self._audit(EV_CLOCK, u.code, struct.pack("<II", now, ts))
        self.clock.set(ts)
        self._clock_check(self.clock.now())

    # --- receipts ------------------------------------------------------------

    def open_receipt(self, op):
        u = self.auth.require(A.MODE_SALES)
        if self.draft is not None:
            raise L.Refused(L.E_RECEIPT_OPEN, None)
        self._require(L.OP_PAYMENT, (5, DOC_ROOM, SIGN_ROOM))
        r = D.Receipt(op, u.code)
        self._append(R_OPEN, bytes([op]) + struct.pack("<I", u.code))
        self.draft = r
        self.returnable = None
        return r

    # --- returns (R-30, KZ-15): kkm.returns, loaded with the first return --

    def open_return(self, key, number=None):
        # a return of the receipt of this register that the buyer's paper
        # names: key is its fiscal sign or autonomous number (or QR text),
        # or key and number are its shift and receipt number
        self.auth.require(A.MODE_SALES)
        if self.draft is not None:
            raise L.Refused(L.E_RECEIPT_OPEN, None)
        from kkm import returns

        return returns.open_return(self, key, number)

    def return_line(self, i=None, qty_milli=None):
        # line i of the original, qty_milli of it (default: all that is
        # left); i None: what is left of every line
        if self.draft is None or self.returnable is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        from kkm import returns

        returns.return_line(self, i, qty_milli)

    def refund(self):
        # the open return's payments by the original's payment types:
        # non-cash first with its terminal data, cash for the rest (and only
        # what the drawer holds: fiscalise)
        if self.draft is None or self.returnable is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        from kkm import returns

        return returns.refund(self)

    def catalogue_item(self, code):
        # S000-1: the National Catalogue's element for a scanned GTIN/NTIN
        # from the cache, or None: not cached (ofd.sender's catalogue_item
        # asks the OFD); Refused E_NKT_CODE: not a GTIN/NTIN
        from kkm import catalog

        self.auth.require(A.MODE_SALES)
        return catalog.cached(self, code)

    def add_line(self, line):
        # a line into the open receipt under the setting "catalogue": strict
        # refuses goods not taken from the catalogue, soft sells them ->
        # the text code to show the cashier (catalog.N_NOT_IN_NKT) or None
        from kkm import catalog

        r = self.draft
        if r is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        rule = self.settings.get("catalogue")
        catalog.check_line(line, r.op, rule, len(r.lines))
        r.add_line(line)
        if not catalog.coded(line) and not D.is_return(r.op):
            return catalog.N_NOT_IN_NKT
        return None

    def abandon(self):
        # before fiscalisation a receipt may be dropped: not a fiscal document
        if self.draft is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        self.draft = None
        self.returnable = None
        self._audit(EV_ABANDON, self.auth.current[0].code if self.auth.current else 0)

    def _info(self, number, shift_no, ts, sign, offline, doc=None):
        # the layout's data; a receipt prints the rates and VAT status
        # stamped in it, the table of its date is only for an old record;
        # the local time is the document's own (its stamped UTC offset)
        s = self.settings
        off = getattr(doc, "utc_offset", None)
        if off is None:
            off = s.get("tz_offset")
        info = {
            "taxpayer": s.get("taxpayer"), "bin": s.get("bin"), "address": s.get("address"),
            "factory_no": s.get("factory_no"), "rnm": s.get("rnm"), "vat_payer": s.get("vat_payer"),
            "number": number, "shift_no": shift_no, "ts": ts + off, "fiscal_sign": sign,
            "offline": offline, "ofd_name": s.get("ofd_name"), "check_url": s.get("check_url"),
            "utc_offset": off, "cash": self.counters.cash,
            "cashier_name": getattr(doc, "operator_name", None),  # stamped at issue
        }
        if isinstance(doc, D.Receipt) and not doc.stamped():
            info["table"] = s.tax_table(ts)
        return info

    def user_name(self, code):
        u = self.auth.users.get(code)
        return u.name if u is not None else None

    def _check_cash(self, doc):
        # a withdrawal or a cash payout larger than the drawer is refused
        d = C.cash_delta(doc)
        if d < 0 and -d > self.counters.cash:
            raise L.Refused(L.E_NOT_ENOUGH_CASH, self.counters.cash)

    def fiscalise(self, lang=None):
        # issue the open receipt (see the header) -> Issued
        self.auth.require(A.MODE_SALES)
        r = self.draft
        if r is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        now = self._require(L.OP_PAYMENT)
        if self.settings.get("catalogue") == "strict":
            from kkm import catalog

            catalog.check_receipt(r, "strict")  # also lines added to the draft directly
        # validate and stamp the rates in force on the document's local
        # date, the cashier's name and the UTC offset: the paper, the
        # counters and the OFD request use the stamps
        r.validate(self.settings.tax_table(now), self.settings.get("bin"), self.user_name(r.cashier_code),
                   self.settings.get("tz_offset"))
        if D.is_return(r.op):
            from kkm import returns

            returns.check(self, r)  # against what is left of its original
        body = DC.encode_receipt(r)
        if 8 + len(body) > DOC_ROOM:  # a long receipt: its own size
            self._require(L.OP_PAYMENT, (5, 8 + len(body), SIGN_ROOM))
        self._check_cash(r)
        iss = self._issue(R_RECEIPT, r, body, now, lang)
        self.draft = None
        self.returnable = None
        return iss

    def pay(self, kind, amount, lang=None, terminal=None, auth_code=None, rrn=None, qr_id=None):
        # a payment of the open receipt: cash `amount` handed over by the
        # buyer (a sale, a purchase return: above the amount due it is
        # change; cash may come in parts), any other payment at most the
        # amount due. The paid receipt is fiscalised; a payment that did
        # not fiscalise (a lock, a refused line) is taken off again, so the
        # cashier can pay anew.
        # -> Issued, or None while an amount is still due
        self.auth.require(A.MODE_SALES)
        r = self.draft
        if r is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        if not is_int(amount) or amount <= 0:
            raise D.DocumentError(T.E_AMOUNT, amount)
        due = r.total() - r.paid()
        if kind == D.PAY_CASH and (r.op == D.OP_SELL or r.op == D.OP_BUY_RETURN):
            p = D.Payment(kind, min(amount, due), amount)
        elif amount > due:
            raise D.DocumentError(T.E_PAY_OVER, amount)
        else:
            p = D.Payment(kind, amount, None, terminal, auth_code, rrn, qr_id)
        before = r.payments[:]
        r.add_payment(p)
        if r.paid() < r.total():
            return None
        try:
            return Register.fiscalise(self, lang)
        except Exception:
            if not r.sealed:
                r.set_payments(before)
            raise

    def deposit(self, amount, lang=None):
        return self._placement(D.DEPOSIT, amount, lang)

    def withdraw(self, amount, lang=None):
        return self._placement(D.WITHDRAWAL, amount, lang)

    def _placement(self, kind, amount, lang):
        # KZ-27: cash in / cash out, the same write-ahead sequence
        u = self.auth.require(A.MODE_SALES)
        if self.draft is not None:
            raise L.Refused(L.E_RECEIPT_OPEN, None)
        now = self._require(L.OP_PLACEMENT)
        p = D.Placement(kind, amount, u.code, u.name, self.settings.get("tz_offset"))
        self._check_cash(p)
        return self._issue(R_PLACEMENT, p, DC.encode_placement(p), now, lang)

    def _notice(self, code):
        # tell the cashier once (KZ-29.2, reprint, Z area low, recovery)
        if code not in self.notices:
            self.notices.append(code)

    def _issue(self, rtype, doc, body, now, lang, reserve=False):
        # 1. write-ahead: the document as it will be sent and printed; now
        # is its time (the one its rates were stamped for). Nothing overtakes
        # the offline queue: queued says documents waited before it
        if self.unsettled is not None:
            raise L.Refused(L.E_RECEIPT_OPEN, None)
        shift_no = self.acc.z_count() + 1
        number = self.doc_no + 1
        queued = self.acc.unacked_count() > 0
        payload = doc_header(shift_no, number) + body
        seq = self._append(rtype, payload, True, reserve, now)
        if isinstance(doc, D.Receipt):
            doc.seal()
        iss = Issued(rtype, seq, payload, doc, number, shift_no, now, queued, lang)
        self.unsettled = iss
        return iss

    def settle(self, iss, answer):
        # 2. the OFD's answer (Accepted) as the document's ACK, or its
        # autonomous sign (answer None, or the ACK did not fit: it stays
        # queued and is resent as a duplicate); 3. counters; 4. print.
        # -> Fiscalised; for a Z the report printed (close_shift)
        if iss is not self.unsettled:
            raise ValueError("not the issued document")
        self.unsettled = None
        sign = None
        if answer is not None:
            try:
                self.acc.ack(iss.seq, ack_payload(answer.sign, answer.channel), self.clock.now())
                sign = answer.sign
            except JournalError:  # JournalFull included
                pass
        if iss.rtype == R_ZDOC:
            return self._settle_z(iss, answer if sign is not None else None)
        offline = sign is None
        journalled = True
        if offline:
            sign = autonomous_sign(iss.seq)
            try:
                # its room was kept when the document was accepted, so the
                # reserve may take it
                self._append(R_SIGN, sign_payload(iss.seq, sign), False, True)
            except L.Locked:
                # the document is journalled, its sign record is not: it is
                # counted (as recovery would) but not printed; the next boot
                # with space completes the sign record (kkm.recovery)
                journalled = False
            # KZ-29.2: the OFD's block (KZ-16) is not a lost connection
            self._notice(L.N_OFD_BLOCKED if self.locks.is_set(L.OFD_SUSPEND) else L.N_OFFLINE)
        self.apply_doc(iss.rtype, iss.doc, offline, iss.ts)
        res = Fiscalised(iss.seq, iss.number, iss.shift_no, iss.ts, sign, offline, iss.doc, False)
        res.journalled = journalled
        self.last = res
        if self.since_cp >= CHECKPOINT_EVERY:
            try:
                self.checkpoint()  # only shortens the next recovery
            except L.Locked:
                pass
        return self._print(res, iss.lang)

    def acknowledge(self, seq, answer):
        # a queued document the OFD accepted: its ACK (the counters took it
        # at settle). -> False when the ACK did not fit (resent later)
        try:
            self.acc.ack(seq, ack_payload(answer.sign, answer.channel), self.clock.now())
        except JournalError:
            return False
        if not self.acc.unacked_count() and L.N_OFFLINE in self.notices:
            self.notices.remove(L.N_OFFLINE)
        return True

    def queued(self, seq):
        # a queued document's (rtype, payload) for its resend, or None: it
        # does not read back whole (KZ-3.3, the integrity lock)
        try:
            rtype, ts, payload = self.acc.read(seq)
        except JournalError:
            self.locks.set(L.ACC_INTEGRITY, "record lost")
            return None
        return rtype, payload

    def apply_doc(self, rtype, doc, offline, ts):
        # the effect of one fiscal document on the state (also used by
        # recovery, so live and replayed documents count the same way)
        if rtype == R_RECEIPT:
            # the rates stamped in the receipt; an old record without them
            # counts at the table in force on its own date
            self.counters.add_receipt(doc, offline, None if doc.stamped() else self.settings.tax_table(ts))
            if self.shift_start is None:
                self.shift_start = ts  # KZ-14: first payment document done
        else:
            self.counters.add_placement(doc, offline)
        if not self.shift_open:
            self.shift_open = True
            self.shift_open_ts = ts
        self.doc_no += 1
        self.since_cp += 1
        if ts > self.last_doc_ts:
            self.last_doc_ts = ts

    def _print(self, res, lang):
        # 5. print: only a document whose sign is in the journal is printed.
        # A printer that answers later (boards: an ESC/POS job) returns its
        # job: the document counts as printed once the printer confirms it
        # (paper_check)
        if not res.journalled:
            self._notice(L.N_REPRINT)
            return res
        lang = lang or self.settings.get("lang")
        info = self._info(res.number, res.shift_no, res.ts, res.fiscal_sign, res.offline, res.doc)
        info["copy"] = _copy(res)
        if isinstance(res.doc, D.Receipt):
            lines = layout.receipt_lines(res.doc, info, lang, self.paper_width())
        else:
            lines = layout.placement_lines(res.doc, info, lang, self.paper_width())
        res.lines = lines
        if self._send(res, lines):
            self.print_ofd_texts(lang)  # KZ-17: after the document, on its own slip
        return res

    def _print_z(self, z):
        lines = layout.report_lines(z.report, z.lang or self.settings.get("lang"), self.paper_width(), _copy(z))
        return self._send(z, lines)

    def _send(self, paper, lines):
        # a document's lines to the printer -> False when it refused them
        paper.reprint = False
        try:
            paper.job = self.printer.print(lines)
        except Exception:
            self._print_failed(paper)
            return False
        if paper.job is None:
            paper.printed = True
        return True

    def _print_failed(self, paper):
        # KZ-6: the printer's state locks new documents; the document is
        # printed again once the printer is ready (paper_check, or COPY)
        self._printer()
        self._audit(EV_PRINT_FAIL, 0, struct.pack("<I", paper.seq))
        self._notice(L.N_REPRINT)
        paper.reprint = True

    def paper_check(self, lang=None):
        # KZ-6, called by the app's printer task: the printer's word on the
        # jobs of the last document and the last Z. Confirmed: printed.
        # Failed (paper end, cover, fault): locked by the printer's state,
        # and once it is ready again printed again, marked as a copy when
        # part of it reached the paper. The same fiscalised document: never
        # a second one. -> what was printed again (Fiscalised, ZPaper), or None
        self._z_printed()
        for p in (self.last, self.z_paper):
            if p is None or not self._failed(p):
                continue
            self._printer()
            if self.printer.status() != PRINTER_OK:
                return None
            if L.N_REPRINT in self.notices:
                self.notices.remove(L.N_REPRINT)
            if p is self.z_paper:
                self._print_z(p)
            else:
                self._print(p, lang)
            return p
        return None

    def _failed(self, p):
        # the job's outcome taken in -> True when p waits to be printed again
        if p.printed:
            return False
        job = p.job
        if job is not None:
            if job.done is None:
                return False  # still printing
            p.job = None
            if job.done:
                p.printed = True
                return False
            p.started = p.started or job.started
            self._print_failed(p)
        return p.reprint

    def paper_width(self):
        # characters per line of the board's printer (58 mm: 32, 80 mm: 48)
        return getattr(self.printer, "width", layout.WIDE)

    def copy_last(self, lang=None):
        # a copy of the last document (after a paper jam or a power cut)
        if self.last is None:
            raise L.Refused(L.E_NO_RECEIPT, None)
        self._require(L.OP_X)
        return self._print(self.last, lang)

    # --- texts from the OFD (KZ-17, ofd.texts) ------------------------------
    # ofd.port puts the texts of every answer in ofd_texts; the UI
    # reads ofd_texts.pending(SHOW) and acknowledges each (done). A new text
    # is printed once on a non-fiscal slip of its own when the printer is
    # next free: right after the document or report whose exchange brought
    # it, or after a probe (ofd.port). The fiscal receipt is never changed:
    # its details are those of R-56, the same on paper, in a copy and at
    # the OFD. The store and its module are loaded with the first text.

    def print_ofd_texts(self, lang=None):
        t = self.ofd_texts
        return None if t is None else t.print_pending(self, lang)

    def lock_message(self, code, lang=None, detail=None):
        # the cashier's text for a lock or refusal code (and the refusal's
        # detail, kkm.locks.message); the server block (OFD_SUSPEND) shows
        # the OFD's last INFO text after it (section 13)
        m = L.message(code, lang or self.settings.get("lang"), detail)
        t = self.ofd_texts
        t = t.info() if t is not None and code == L.OFD_SUSPEND else None
        return m + "\n" + t if t else m

    # --- a document the OFD refuses (PROTOCOL.md section 13) -----------------
    # "Any answer other than 0/254/255 -> BLOCKED until the offending message
    # is removed after analysis". The service engineer removes the queue's
    # head that the OFD refused (the port's refusal names it) from the
    # queue, never from the journal: one record decides it, the document's
    # ACK with the payload ASIDE_ACK + b"<code>:<user>" instead of a fiscal
    # sign (atomic like every record); an R_AUDIT record (EV_SET_ASIDE: who,
    # which document, the code) follows for the audit trail, and a power cut
    # before it loses nothing the ACK does not say. The counters stay: the
    # document happened, the Z counts it, its paper keeps its autonomous
    # sign. Then the queue goes on with the next document and the 72 h clock
    # runs from it (ofd.sender decides which refusals allow it and calls
    # this). docs/register.md.

    def set_aside(self, seq, code, text, lang=None):
        # the queue's head seq, refused by the OFD with result code and its
        # text (or None) -> the service slip's lines, or None when it was
        # not printed (the printer is not a condition: the journal is)
        u = self.auth.require(A.MODE_SERVICE)
        if self.draft is not None:
            raise L.Refused(L.E_RECEIPT_OPEN, None)
        acc = self.acc
        if acc.first_unacked() != seq:
            raise L.Refused(T.E_NOT_REFUSED, seq)
        rtype, ts, payload = acc.read(seq)
        sign = None
        if rtype != R_ZDOC:
            sign = sign_of(acc, seq)
            if sign is None:  # the autonomous sign is completed at a boot first
                raise L.Refused(T.E_NOT_REFUSED, seq)
        try:
            self.acc.ack(seq, ASIDE_ACK + ("%d:%d" % (code, u.code)).encode(), self.clock.now())
        except JournalError:
            self.locks.set(L.ACC_FAULT)
            raise L.Locked(L.ACC_FAULT, [L.ACC_FAULT])
        try:
            # room: the document's reserve unit, its two session records are
            # never needed now
            self._append(R_AUDIT, bytes([EV_SET_ASIDE, u.code & 0xFF]) + struct.pack("<IH", seq, code), False, True)
        except L.Locked:
            pass  # the ACK already names who and why
        if not acc.unacked_count() and L.N_OFFLINE in self.notices:
            self.notices.remove(L.N_OFFLINE)
        s = self.settings
        shift_no, number = split_doc(payload)[:2]
        info = {"factory_no": s.get("factory_no"), "rnm": s.get("rnm"), "ts": self.clock.now() + s.get("tz_offset"),
                "shift_no": shift_no, "number": number, "seq": seq, "sign": sign, "code": code, "text": text}
        lines = layout.aside_lines(info, lang or s.get("lang"), self.paper_width())
        if self.printer.status() == PRINTER_OK:
            try:
                self.printer.print(lines)
                return lines
            except Exception:
                self._printer()
        return None

    # --- reports (KZ-10(1), KZ-12, KZ-31) ------------------------------------

    def x_report(self, lang=None):
        # KZ-31.4: the register's own X (x_source "own"); ofd.sender sends it
        # to the OFD first when online with nothing queued and prints the
        # OFD's X when it answers with one (print_x). Returns the printed X
        return self.print_x(self.x_counters(), "own", lang)

    def x_counters(self):
        # the register's X now (rights and locks checked)
        self.auth.require(A.MODE_SALES)
        now = self._require(L.OP_X)
        off = self.settings.get("tz_offset")
        return self.counters.zx_report(C.REPORT_X, self.acc.z_count() + 1, now + off,
                                       (self.shift_open_ts or now) + off)

    def print_x(self, zx, source, lang=None, channels=None):
        # source: "ofd" (the OFD's X) or "own"; channels: (states, last) of
        # the OFD's channels (net.manager), printed after the counters
        self.x_source = source
        lang = lang or self.settings.get("lang")
        lines = layout.report_lines(zx, lang, self.paper_width())
        if channels is not None:
            lines += layout.channel_lines(channels[0], channels[1], lang, self.paper_width())
        self.printer.print(lines)
        self.print_ofd_texts(lang)
        return zx

    def cashier_report(self, lang=None):
        return self._rows_report(layout.cashier_lines, self.counters.by_cashier, lang)

    def section_report(self, lang=None):
        return self._rows_report(layout.section_lines, self.counters.by_section, lang)

    def _rows_report(self, lines_of, rows, lang):
        # KZ-31.2, KZ-31.3: a non-fiscal report of this shift's counters
        self.auth.require(A.MODE_SALES)
        self._require(L.OP_X)
        lines = lines_of(rows(), lang or self.settings.get("lang"), self.paper_width())
        self.printer.print(lines)
        return lines

    def close_shift(self, lang=None):
        # KZ-12, KZ-13, KZ-29.7, KZ-ND-29
        u = self.auth.require(A.MODE_SHIFT_CLOSE)
        if self.draft is not None:
            raise L.Refused(L.E_RECEIPT_OPEN, None)
        now = self._require(L.OP_Z)
        if not self.shift_open:
            raise L.Refused(L.E_NO_SHIFT, None)
        if now < self.last_doc_ts or self.clock.lost():
            # the clock went back in the shift (CLOCK_BAD) or lost its time
            # (CLOCK_LOST): the Z, the shift's last document, is dated at
            # the last document, and the clock may be set after it (KZ-41,
            # KZ-42; a Z dated by a wrong clock ahead would refuse the true time)
            now = self.last_doc_ts
        if not self._acc_test():  # KZ-2 / KZ-13 at Z
            raise L.Locked(L.ACC_INTEGRITY, [L.ACC_INTEGRITY])
        # the Z document, from the reserve; offline it waits in the queue
        # with its close time (KZ-29.7) and who closed the shift
        body = z_body(self.shift_open_ts or now,
                      DC.encode_z(self.counters.encode(), u.code, u.name, self.settings.get("tz_offset")))
        return self._issue(R_ZDOC, None, body, now, lang, True)

    def _settle_z(self, iss, answer):
        # KZ-31.5: online, the Z the OFD formed and returned is printed (with
        # what the register's own says otherwise); offline the register's
        # own (built only then: the OFD's makes it needless)
        ofd_zx = answer.report if answer is not None else None
        zx = self.finish_z(iss.shift_no, iss.ts, report=ofd_zx is None)  # Z area, reset, checkpoint
        self.z_source = "own"
        if ofd_zx is not None:
            zx = ofd_zx
            self.z_source = "ofd"
        self.z_paper = ZPaper(iss.seq, zx, iss.lang)
        if self._print_z(self.z_paper):
            self.print_ofd_texts(iss.lang)  # texts that came with the Z's answer
        self._z_printed()
        return zx

    def _z_printed(self):
        # a Z on paper needs its report no more (a few KB of heap)
        if self.z_paper is not None and self.z_paper.printed:
            self.z_paper = None

    def finish_z(self, shift_no, ts, write=True, report=False):
        # after the Z document: Z area, then reset, then checkpoint; recovery
        # calls it too when a power cut fell between these steps. -> the
        # register's Z report (report: built before the reset) or None
        zx = None
        if report:
            off = self.settings.get("tz_offset")
            zx = self.counters.zx_report(C.REPORT_Z, shift_no, ts + off, (self.shift_open_ts or ts) + off, ts + off)
        if self.acc.z_count() < shift_no:
            self.acc.close_shift(self.counters.z_summary(shift_no, ts), ts)
        self.counters = self.counters.next_shift()
        self.shift_open = False
        self.shift_open_ts = 0
        self.shift_start = None
        self.doc_no = 0
        if ts > self.last_doc_ts:
            self.last_doc_ts = ts
        if write:
            self.checkpoint(True)
            self._z_area()
        return zx
