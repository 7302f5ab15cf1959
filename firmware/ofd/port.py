# The register's OFD port: turns a journalled document into a protocol
# request, exchanges it through ofd.client and returns what the register
# needs. It writes nothing to the accumulator itself (the register journals
# the document before calling and the answer after); it only reads records.
#
#   port = OfdPort(client, acc, version="0.1")
#   port.bind(register)                    # settings, clock, users, shift
#   port.submit(kind, doc_seq, payload)    -> ("online", fiscal_sign, qr)
#                                             or ("offline", None, None)
#   port.report_x(zx)                      -> Outcome or None (X to the OFD)
#   port.probe(get_reg_info=True)          -> Outcome or None (COMMAND_SYSTEM)
#   port.last                              the last ofd.client.Outcome
#
# kind is "receipt", "placement" or "z"; payload is what the register
# journalled: kkm.register.doc_header(shift, number) + the document's bytes.
# The request is rebuilt from the record on every attempt and is a pure
# function of it, so a resend carries the sale's own date and time.
#
# A document whose autonomous fiscal sign is in the journal (an R_SIGN
# record after it) was issued offline: its request carries
# offline_ticket_number = the document's journal sequence (the last ten
# digits of the printed autonomous sign, KZ-29.3, KZ-30.3), is_offline for
# placements and Z, and service.offline_period from the oldest unsent
# document to now (KZ-30.1). A request whose answer was lost is sent again
# with the same token and request number (ofd.client), so the OFD returns
# the sign it already gave instead of storing the document twice.
# For placements and Z (no fiscal sign in the answer) the acknowledgement
# text is "ack:<request number>".

from compat import const
from kkm import counters as C
from kkm import document as D
from kkm import register as R
from ofd import ProtocolError
from ofd import client as cl
from ofd import messages as M
from ofd import schema as S

SCAN_AFTER = const(16)  # records looked at after a document for its R_SIGN
KINDS = {"receipt": R.R_RECEIPT, "placement": R.R_PLACEMENT, "z": R.R_ZDOC}


class OfdPort:
    def __init__(self, client, acc, version="0.1", model=None):
        self.client = client
        self.acc = acc
        self.reg = None
        self.version = version
        self.model = model
        self.last = None

    def bind(self, reg):
        self.reg = reg

    # --- reading the journal ------------------------------------------------

    def _offline(self, doc_seq):
        # True when the register gave the document an autonomous sign
        if doc_seq >= self.acc.last_seq:
            return False  # nothing after it (a live document): no scan
        n = 0
        for seq, rtype, ts, payload in self.acc.records(doc_seq + 1):
            if rtype == R.R_SIGN and len(payload) >= 4:
                if payload[0] | payload[1] << 8 | payload[2] << 16 | payload[3] << 24 == doc_seq:
                    return True
            if rtype in (R.R_RECEIPT, R.R_PLACEMENT, R.R_ZDOC):
                return False
            n += 1
            if n >= SCAN_AFTER:
                break
        return False

    def _open_ts(self, shift_no, doc_seq, close_ts):
        # the opening time of the shift a Z document closes
        reg = self.reg
        if reg.shift_open and reg.shift_open_ts and reg.acc.z_count() + 1 == shift_no:
            return reg.shift_open_ts
        un = self.acc.unacked()
        if un:
            for seq, rtype, ts, payload in self.acc.records(un[0]):
                if seq >= doc_seq:
                    break
                if rtype == R.R_RECEIPT or rtype == R.R_PLACEMENT:
                    if R.split_doc(payload)[0] == shift_no:
                        return ts
        return close_ts

    def _operator_name(self, code):
        u = self.reg.auth.users.get(code)
        return u.name if u is not None else None

    def _service(self, offline):
        s = self.reg.settings
        reg_info = M.reg_info(s.get("rnm"), s.get("factory_no"), s.get("kkm_id"), s.get("taxpayer"),
                              s.get("address"), s.get("bin"))
        if not offline:
            return M.service(reg_info)
        off = s.get("tz_offset")
        begin = self.acc.oldest_unacked_ts()
        now = self.reg.clock.now()
        if begin is None or begin > now:
            begin = now
        return M.service(reg_info, begin + off, now + off)

    # --- requests -------------------------------------------------------------

    def build(self, kind, doc_seq, payload):
        # the Request dict for a journalled document
        reg = self.reg
        rtype = KINDS.get(kind)
        if rtype is None:
            raise ProtocolError("unknown document kind", kind)
        shift_no, number, body = R.split_doc(payload)
        acc = self.acc
        # a live document is the last record: its time without reading it back
        ts = acc.last_ts if doc_seq == acc.last_seq else acc.read(doc_seq)[1]
        off = reg.settings.get("tz_offset")
        offline = self._offline(doc_seq)
        if rtype == R.R_ZDOC and self.acc.last_seq != doc_seq:
            # the register writes no autonomous sign for a Z: a Z sent after
            # other records (from the queue) was closed offline (KZ-29.7)
            offline = True
        if rtype == R.R_RECEIPT:
            r = D.Receipt.decode(body)
            t = M.ticket(r, reg.settings.tax_table(), ts + off, shift_no, number,
                         doc_seq if offline else None, self._operator_name(r.cashier_code), off)
            return M.ticket_request(t, self._service(offline))
        if rtype == R.R_PLACEMENT:
            p = D.Placement.decode(body)
            mp = M.money_placement(p, ts + off, shift_no, number, offline, self._operator_name(p.cashier_code))
            return M.placement_request(mp, self._service(offline))
        counters = C.ShiftCounters.decode(body)
        open_ts = self._open_ts(shift_no, doc_seq, ts)
        zx = counters.zx_report(C.REPORT_Z, shift_no, ts + off, open_ts + off, ts + off)
        cur = reg.auth.current
        code = cur[0].code if cur else 0
        cs = M.close_shift(zx, ts + off, shift_no, code, offline, self._operator_name(code) if code else None)
        return M.close_shift_request(cs, self._service(offline))

    def submit(self, kind, doc_seq, payload):
        # an unanswered earlier attempt of this document is sent again with
        # its TOKEN and REQNUM (ofd.client): the key is the journal sequence
        out = self.client.exchange(self.build(kind, doc_seq, payload), doc_seq)
        self.last = out
        if out.status != cl.OK:
            return ("offline", None, None)
        resp = out.response
        if kind == "receipt":
            t = resp["ticket"]
            qr = t.get("qr_code")
            if qr is not None:
                try:
                    qr = bytes(qr).decode()
                except UnicodeError:
                    qr = None
            return ("online", t["ticket_number"], qr)
        return ("online", "ack:%d" % out.reqnum, None)

    def _idle(self):
        # nothing owed an answer: a new request would spoil duplicate detection
        return self.client.pending is None

    def report_x(self, zx):
        # the device's X report to the OFD (COMMAND_REPORT, REPORT_X)
        if not self._idle():
            return None
        off = self.reg.settings.get("tz_offset")
        rr = M.report(S.REPORT_X, zx, self.reg.clock.now() + off)
        self.last = self.client.exchange(M.report_request(rr, self._service(False)))
        return self.last

    def probe(self, get_reg_info=True):
        # COMMAND_SYSTEM: connection check, registration data and, while
        # documents wait, the offline period (PROTOCOL.md section 13)
        if not self._idle():
            return None
        queued = bool(self.acc.unacked())
        svc = self._service(queued)
        svc["get_reg_info"] = bool(get_reg_info)
        svc["software_information"] = M.software(self.version, model=self.model)
        self.last = self.client.exchange(M.system_request(svc))
        return self.last
