# The receipt printer of the PC: each document as text, appended to a
# transcript file (closed after each document, so a killed simulator keeps
# what was printed) and shown on the terminal. The QR code prints its payload.

from kkm import layout


def render(lines, width):
    # kkm.layout lines -> text lines inside a paper frame
    out = ["+" + "-" * width + "+"]
    for style, s in lines:
        if style & layout.QR:
            out.append(_row("[QR]", width))
            for k in range(0, len(s), width):
                out.append(_row(s[k:k + width], width))
        else:
            out.append(_row(s, width))
    out.append("+" + "-" * width + "+")
    return out


def _row(s, width):
    return "|" + s + " " * (width - len(s)) + "|"


class TranscriptPrinter:
    def __init__(self, path, term=None, width=layout.WIDE):
        self.path = path
        self.term = term  # boards.host.term.Terminal, or None
        self.width = width
        self.state = "ok"  # the terminal's paper key toggles "no_paper"

    def status(self):
        return self.state

    def print(self, lines):
        if self.state != "ok":
            raise OSError(5, "printer")
        page = render(lines, self.width)
        with open(self.path, "a") as f:
            f.write("\n".join(page) + "\n\n")
        if self.term is not None:
            self.term.say("\n".join(page))
