# Texts from the OFD (KZ-17: messages formed by the state revenue bodies and
# received from the OFD are shown on the screen or printed on the receipt
# tape when received; PROTOCOL.md section 9: ServiceResponse.ticket_ads,
# ServiceRequest.ticket_ad_infos, TicketAdTypeEnum 0 OFD, 1 ORG, 2 POS,
# 3 KKM, 4 INFO; section 13: the server block shows the last INFO text).
#
#   take(reg, ads, blocked=False)  the TicketAd dicts of an answer (ofd.port)
#                                  into reg.ofd_texts, an OfdTexts made with the
#                                  first text (None until then, and this module
#                                  unloaded) -> how many texts are new
#   t.infos()                      [{"type", "version"}] held: every request's
#                                  service.ticket_ad_infos (ofd.port)
#   t.pending(SHOW)                [(type, version, text)] new for the display
#   t.done(type, version, SHOW)    the cashier has read it -> True/False
#   t.pending(PRINT), t.done(type, version, PRINT)   the same for the printout
#   t.info()                       the last INFO text (the register's lock
#                                  message for the server block) or None
#   t.print_pending(reg, lang)     the texts not printed yet on one non-fiscal
#                                  slip (kkm.layout.ofd_text_lines), if the
#                                  register's printer is ready -> lines or None
#
# Bounded: one text per type (TYPES), the newest version, each clipped to
# MAX_BYTES of UTF-8 at a character boundary with control characters (ESC,
# GS: printer commands) turned into spaces; a text shown and printed is
# dropped (its version stays), except INFO's, which the server block shows.
#
# Not journalled, by design: the texts are no fiscal data, and a register
# that reports no versions (after a reboot) gets the newest text of each
# type again with the first answer (section 9: the server sends what is
# newer than the versions reported), so a text is never lost before it is
# shown and printed. The cost is one more slip per text after a reboot, and
# never a loop: while the register runs the versions only grow. The
# accumulator's room stays for the documents.

from compat import const
from kkm import layout

TYPES = const(5)
INFO = const(4)
MAX_BYTES = const(400)  # one text: 200 Cyrillic characters, 4 lines of 48
SHOW = const(1)  # not acknowledged on the display yet
PRINT = const(2)  # not printed yet


def clip(s, limit=MAX_BYTES):
    b = s.encode()
    if len(b) > limit:
        k = limit
        while k > 0 and b[k] & 0xC0 == 0x80:
            k -= 1  # a continuation byte: cut before its character
        s = b[:k].decode()
    return layout.printable(s)


def take(reg, ads, blocked=False):
    if reg.ofd_texts is None:
        reg.ofd_texts = OfdTexts()
    return reg.ofd_texts.take(ads, blocked)


class OfdTexts:
    # one slot per type: the version held (None: none), its text (None once
    # shown and printed, except INFO's) and the SHOW | PRINT flags
    def __init__(self):
        self.ver = [None] * TYPES
        self.text = [None] * TYPES
        self.flags = bytearray(TYPES)

    def take(self, ads, blocked=False):
        # a text newer than the one held of its type replaces it. blocked:
        # the answer is the server block (result 15): its INFO text is the
        # reason and replaces the held one even when its version is not
        # newer (the version held never goes back: no text is asked again)
        n = 0
        for ad in ads:
            k = ad["info"]["type"]  # required fields (ofd.codec checks them)
            v = ad["info"]["version"]
            if k < 0 or k >= TYPES:
                continue
            text = clip(ad["text"])
            old = self.ver[k]
            if old is None or v > old:
                self.ver[k] = v
            elif not (blocked and k == INFO and text != self.text[k]):
                continue
            self.text[k] = text
            self.flags[k] = SHOW | PRINT if text else 0
            if text:
                n += 1
        return n

    def info(self):
        return self.text[INFO]

    def infos(self):
        return [{"type": k, "version": self.ver[k]} for k in range(TYPES) if self.ver[k] is not None]

    def pending(self, flag):
        return [(k, self.ver[k], self.text[k]) for k in range(TYPES) if self.flags[k] & flag]

    def done(self, k, version, flag):
        # shown (SHOW) or printed (PRINT); a newer text that came since
        # stays new
        if self.ver[k] != version or not self.flags[k] & flag:
            return False
        self.flags[k] &= ~flag
        if not self.flags[k] and k != INFO:
            self.text[k] = None  # only the version is needed now
        return True

    def print_pending(self, reg, lang=None):
        todo = self.pending(PRINT)
        if not todo or reg.printer.status() != "ok":
            return None  # printed at the next chance
        s = reg.settings
        info = {"rnm": s.get("rnm"), "factory_no": s.get("factory_no"), "ts": reg.clock.now() + s.get("tz_offset")}
        slip = [(k == INFO, t) for k, v, t in todo]
        lines = layout.ofd_text_lines(slip, info, lang or s.get("lang"), reg.paper_width())
        try:
            reg.printer.print(lines)
        except Exception:
            reg._printer()  # the printer's state as a lock
            return None
        for k, v, t in todo:
            self.done(k, v, PRINT)
        return lines
