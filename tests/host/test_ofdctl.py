"""ofdctl: one command to an OFD endpoint, decoded answer and token printed."""

import os
import subprocess
import sys

import pytest

from tools.ofdsim.testkit import RNM, Sim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def sim():
    with Sim() as s:
        yield s


def ctl(sim, reqnum, *args, token=1000):
    return subprocess.run([sys.executable, "-m", "tools.ofdctl", "--host", "127.0.0.1", "--port", str(sim.port),
                           "--id", str(sim.kkm_id), "--token", str(token), "--reqnum", str(reqnum)] + list(args),
                          cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_system_with_reg_info(sim):
    p = ctl(sim, 1, "system", "--reg-info")
    assert p.returncode == 0, p.stderr
    assert "command: COMMAND_SYSTEM" in p.stdout
    assert 'fns_kkm_id: "%s"' % RNM in p.stdout
    assert "# token: 1000 (unchanged)" in p.stdout


def test_report_x_info_and_nomenclature(sim):
    p = ctl(sim, 2, "report", "x")
    assert p.returncode == 0 and "report: REPORT_X" in p.stdout
    p = ctl(sim, 3, "info")
    assert p.returncode == 0 and "command: COMMAND_INFO" in p.stdout
    p = ctl(sim, 4, "nomenclature", "--barcode", "4870001000011")
    assert p.returncode == 0 and 'barcode: "4870001000011"' in p.stdout
    assert "title_kk:" in p.stdout
    p = ctl(sim, 5, "nomenclature", "--barcode", "123")
    assert p.returncode == 2 and "result_code: 18" in p.stdout


def test_errors_are_reported(sim):
    p = ctl(sim, 6, "system", token=999)
    assert p.returncode == 2 and "result_code: 2" in p.stdout
    p = subprocess.run([sys.executable, "-m", "tools.ofdctl", "--port", "1", "--id", "1", "--token", "1",
                        "--reqnum", "1", "system"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "no valid answer" in p.stderr
