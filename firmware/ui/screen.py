# A screen as the display shows it: the status strip on the first row (the
# OFD link: online / offline with the time left to the 72 h lock / blocked;
# documents waiting; paper; channel), the screen's lines under it. Sizes:
# 20x4 (HD44780) and 21x8 (128x64 graphic, 6x8 font). Pure: the UI hands
# in the status and the lines, this module fits them.

from kkm import layout
from ui import keys as K
from ui import texts as U

ONLINE = "online"
OFFLINE = "offline"
BLOCKED = "blocked"


def link_mode(st):
    # the strip's OFD mode from the sender's status (ofd.sender status():
    # mode online / offline / server_blocked / blocked; lock_in) and the
    # register's locks (locked: the 72 h lock or the OFD's order stands)
    mode = st.get("mode")
    if mode == "blocked" or mode == "server_blocked" or st.get("locked"):
        return BLOCKED
    return ONLINE if mode == "online" else OFFLINE


def hours(seconds):
    # "71:59": hours and minutes left
    m = seconds // 60
    return "%d:%02d" % (m // 60, m % 60)


def strip(st, lang, cols):
    # the status strip: parts by priority, the least important dropped
    # when they do not fit (channel first, then the queue)
    mode = link_mode(st)
    parts = []
    if mode == BLOCKED:
        parts.append(U.T.text(U.S_BLOCKED, lang))
    elif mode == OFFLINE:
        parts.append(U.T.text(U.S_OFFLINE, lang))
        if st.get("lock_in") is not None:
            parts.append(hours(st["lock_in"]))
    else:
        parts.append(U.T.text(U.S_ONLINE, lang))
    paper = st.get("paper", "ok")
    if paper != "ok":
        parts.append(U.T.text(U.S_NO_PAPER if paper == "no_paper" else U.S_PRINTER, lang))
    parts.append("[%d]" % st.get("queue", 0))
    parts.append(st.get("channel") or "--")
    while len(parts) > 1:
        s = " ".join(parts)
        if len(s) <= cols:
            return s
        parts.pop()
    return parts[0][:cols]


def lines_of(texts, cols):
    # screen lines: each text wrapped at spaces to the width
    out = []
    for s in texts:
        if len(s) <= cols:
            out.append(s)
        else:
            out.extend(layout.wrap(s, cols))
    return out


def frame(status_line, body, cols, rows, top=0):
    # exactly `rows` strings of at most `cols` characters: the strip, then
    # the body from line `top` on (scrolled); blank rows at the end
    out = [status_line[:cols]]
    for s in body[top:top + rows - 1]:
        out.append(s[:cols])
    while len(out) < rows:
        out.append("")
    return out


class Screen:
    # a screen of the stack; entry: typed digits go to ui.entry; arrows:
    # UP and DOWN go to the screen (else they scroll its lines); cursor: the
    # body line a list screen keeps in view
    entry = False
    arrows = False
    cursor = None
    secret = False  # the entry is a password: a refusal does not give it back

    def key(self, ui, k):
        if k == K.ESC:
            ui.back()

    def scan(self, ui, code):
        pass  # a scan means nothing here

    def body(self, ui):
        return []
