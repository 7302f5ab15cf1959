# A short slice of `make demo` (tools/demo.py): the register app under the
# MicroPython unix port on the PC board with Wi-Fi and GSM (the modem
# simulator), driven through its keys and scanner: the shift opened by a
# cash deposit, 15 sales with scanned and marked goods (KZ-7.1), a return
# found by the fiscal sign on the paper, money in and out (KZ-27), a
# Wi-Fi outage that moves traffic to GSM (KZ-18), a full OFD outage with
# autonomous receipts and their replay (KZ-29, KZ-30), X and Z (KZ-31).
# Checked: the summary's figures and checks, the journal verified, the
# register's sums equal to the script's, the OFD's database equal to the
# journal. The register's own retry interval (60 s, PROTOCOL.md section 13)
# after the OFD outage sets the slice's length: about 80 s.

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SALES = 15


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    out = tmp / "summary.json"
    p = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "demo.py"), "--sales", str(SALES), "--seed", "2",
                        "--var", str(tmp / "var"), "--json", str(out)], capture_output=True, text=True, timeout=300,
                       cwd=ROOT)
    assert out.exists(), p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8")), p


def _check(r, words):
    return next(c for c in r["checks"] if c["check"].startswith(words))


def test_demo_day_figures_and_checks(day):
    r, p = day
    assert "time to the fiscal sign" in p.stdout and "peak heap" in p.stdout, p.stdout
    docs = r["documents"]
    assert docs["sell"]["count"] == SALES and docs["sell return"]["count"] == 1
    assert docs["deposit"]["count"] == 1 and docs["withdrawal"]["count"] == 1 and docs["z report"]["count"] == 1
    assert r["marked_lines"] >= 1 and r["autonomous"] >= 3
    assert r["acknowledged_over"].get("wifi", 0) > 0 and r["acknowledged_over"].get("gsm", 0) > 0
    for way in ("wifi", "gsm", "autonomous"):
        t = r["sign_s"][way]
        assert 0 < t["p50"] <= t["p90"] <= t["max"], (way, t)
    assert r["sign_s"]["wifi"]["p50"] < 1.0  # loopback: a sale signed well inside a second
    assert r["heap_peak"] > r["heap_flash_images"] > 0
    assert r["journal_programmed"] > 100 * r["journal_documents"]  # every document and its ACK reach the flash
    for words in ("the journal verifies", "every document acknowledged", "the register's documents and sums",
                  "traffic went over both channels"):
        c = _check(r, words)
        assert c["ok"], c


# KZ-30.3: a document signed autonomously reaches the OFD with its autonomous
# number, also one issued while a replay was due (a sender step between its
# issue and its settle would send it in its online form, and the OFD's Z
# would differ from the register's)
def test_demo_ofd_database_equals_the_journal(day):
    r, p = day
    assert _check(r, "the OFD's database equals the journal")["ok"], p.stdout
    assert _check(r, "the OFD's Z equals")["ok"], p.stdout
    assert r["ok"] and p.returncode == 0
