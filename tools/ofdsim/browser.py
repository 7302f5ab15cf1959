"""Headless Chromium helpers for the check page, and a demo screenshot.

    python -m tools.ofdsim.browser docs/check-page.png

starts a throw-away simulator, sends a sample receipt and saves a screenshot
of its check page (the page the receipt's QR code opens).
"""

import os
import shutil
import subprocess
import sys
import tempfile

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--disable-dev-shm-usage"]


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    return None


def _run(args, timeout=60):
    exe = chromium()
    if exe is None:
        raise RuntimeError("chromium is not installed (tools/setup_system.sh installs it)")
    with tempfile.TemporaryDirectory() as prof:
        p = subprocess.run([exe] + FLAGS + ["--user-data-dir=" + prof] + args, capture_output=True,
                           timeout=timeout)
    return p


def dump_dom(url, timeout=60):
    """The DOM of the page after load, as Chromium serialises it."""
    p = _run(["--dump-dom", url], timeout)
    return p.stdout.decode("utf-8", "replace")


def screenshot(url, path, width=900, height=1100, timeout=60):
    path = os.path.abspath(path)
    if os.path.exists(path):
        os.remove(path)
    _run(["--screenshot=" + path, "--window-size=%d,%d" % (width, height), url], timeout)
    if not os.path.exists(path):
        raise RuntimeError("chromium wrote no screenshot")
    return path


def sample_receipt(sim):
    """Send a realistic receipt to a running testkit.Sim; return its QR URL."""
    from tools.ofdsim import build
    ses = sim.session()
    ses.send(build.money_placement((2026, 3, 2, 8, 55, 0), 500000))
    lines = [("Ақ нан, 500 г / Хлеб белый, 500 г", 2000, 18000, "1", "4870001000011"),
             ("Ірімшік «Қазақстан» / Сыр «Казахстанский»", 350, 420000, "1", "4870001000042"),
             ("Қымыз, құйып сату / Кумыс, в розлив", 1500, 180000, "2"),
             ("Шай «Пиала», 250 г / Чай «Пиала», 250 г", 1000, 145000, "2", "4870001000134")]
    req = build.ticket((2026, 3, 2, 9, 14, 27), lines, discount=5000, payments=[(1, 300000), (0, 296000)],
                       change=3000, operator=(7, "Әсел Нұрланқызы"))
    _, r = ses.send(req)
    if r.result.result_code != 0:
        raise RuntimeError(str(r.result))
    return r.ticket.qr_code.decode("utf-8")


def main(argv):
    out = argv[0] if argv else "docs/check-page.png"
    from tools.ofdsim.testkit import Sim
    with Sim() as sim:
        url = sample_receipt(sim)
        print(url)
        print(screenshot(url, out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
