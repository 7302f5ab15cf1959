# The cashier's keys by name: the board's keypad driver reports these names
# (a matrix keypad on the device, the terminal keyboard on the PC), the UI
# reacts to nothing else.
#
# Key map of the keypad (PAD, rows top to bottom) and of the PC terminal
# (TERMINAL: the character typed -> the key), and the printed legend
# (legend(lang)): one line per key, its name and what it does.

ESC = "ESC"  # back, cancel
CLR = "CLR"  # clear the entry
ENT = "ENT"  # enter, confirm
MENU = "MENU"
UP = "UP"
DOWN = "DOWN"
QTY = "QTY"  # quantity or weight of the next line
PLU = "PLU"  # the entry is a product code
PRICE = "PRICE"  # the entry is a free price
PAY = "PAY"  # total, to payment
CASH = "CASH"
CARD = "CARD"
MOBILE = "MOBILE"  # mobile payment / QR
DISC = "DISC"  # discount or markup of the last line
X = "X"
Z = "Z"
RET = "RET"  # return
COPY = "COPY"  # copy of the last document
FEED = "FEED"  # paper feed
POINT = "."
DOUBLE_ZERO = "00"

DIGITS = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")
ENTRY = DIGITS + (DOUBLE_ZERO, POINT)  # keys that type into the entry
KEYS = ENTRY + (CLR, ESC, ENT, MENU, UP, DOWN, QTY, PLU, PRICE, PAY, CASH, CARD, MOBILE, DISC, X, Z, RET, COPY,
                FEED)

# the keypad, 6 rows of 5 keys
PAD = (
    (FEED, COPY, X, Z, MENU),
    (RET, DISC, PLU, PRICE, UP),
    ("7", "8", "9", QTY, DOWN),
    ("4", "5", "6", CLR, ESC),
    ("1", "2", "3", CARD, MOBILE),
    ("0", DOUBLE_ZERO, POINT, CASH, ENT),
)

# the PC terminal: typed character -> key (PAY is the keypad's ENT on the
# cash key row; "+" on a numeric keypad). Function keys arrive as escape
# sequences: the host board maps those to MENU, UP, DOWN
TERMINAL = (
    "0", "0", "1", "1", "2", "2", "3", "3", "4", "4", "5", "5", "6", "6", "7", "7", "8", "8", "9", "9",
    ".", POINT, ",", POINT, "/", DOUBLE_ZERO,
    "\r", ENT, "\n", ENT, "\x1b", ESC, "\x7f", CLR, "\x08", CLR,
    "m", MENU, "k", UP, "j", DOWN, "*", QTY, "p", PLU, "f", PRICE, "+", PAY,
    "c", CASH, "b", CARD, "q", MOBILE, "d", DISC, "x", X, "z", Z, "r", RET, "o", COPY, "l", FEED,
)


def from_terminal(ch):
    # the key of a typed character, or None
    t = TERMINAL
    for i in range(0, len(t), 2):
        if t[i] == ch:
            return t[i + 1]
    return None


def terminal_char(key):
    t = TERMINAL
    for i in range(1, len(t), 2):
        if t[i] == key:
            return t[i - 1]
    return None


_CONTROL = ("\r", "Ent", "\x1b", "Esc", "\x7f", "Bksp")


def _shown(ch):
    # a terminal key as the legend names it
    if ch in _CONTROL:
        return _CONTROL[_CONTROL.index(ch) + 1]
    return ch or ""


def legend(lang, width=32):
    # the key legend, to print or show: "CASH   c    Қолма-қол"
    from ui import texts as U

    out = []
    for k in KEYS:
        if k in DIGITS and k != "0":
            continue  # "0-9" stands for the digits
        name = "0-9" if k == "0" else k
        ch = "0-9" if k == "0" else _shown(terminal_char(k))
        s = "%s%s%s%s%s" % (name, " " * (7 - len(name)), ch, " " * (5 - len(ch)), U.key_text(k, lang))
        out.append(s[:width])
    return out
