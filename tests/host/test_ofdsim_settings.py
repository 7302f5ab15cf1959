"""Simulated OFD: its run-time settings (the reject-mismatching-Z switch)
are kept in the SQLite store (settings table), so a restart keeps what the
admin API or the CLI set; the command-line flag still sets it at start; a
database made before the table existed opens and reads the default."""

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys

from tools.ofdsim import build
from tools.ofdsim.pbutil import pb, set_money
from tools.ofdsim.store import Store
from tools.ofdsim.testkit import Sim, register_sample, at, get_json as get, post_json as post

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LINE = [("Нан / Хлеб", 2000, 18000, "1")]


def wrong_z_answer(sim):
    """Result code of a CLOSE_SHIFT whose Z has a wrong cash sum (13 when the switch is on)."""
    ses = sim.session()
    assert ses.send(build.ticket(at(9), LINE))[1].result.result_code == 0
    _, x = ses.send(build.report("x", at(19)))
    z = pb().ZXReport()
    z.CopyFrom(x.report.zx_report)
    z.close_shift_time.CopyFrom(z.date_time)
    set_money(z.cash_sum, 1)
    _, r = ses.send(build.close_shift(at(19), z_report=z))
    return r.result.result_code


def test_kz22_switch_set_through_the_admin_api_survives_a_restart(tmp_path):
    db = str(tmp_path / "ofd.sqlite")
    with Sim(db) as sim:
        assert get(sim.http + "/admin/settings") == {"reject_z_mismatch": False}   # a new database: off
        assert post(sim.http + "/admin/settings", {"reject_z_mismatch": True}) == {"reject_z_mismatch": True}
    with Sim(db) as sim:                                # no option: the stored setting
        assert sim.server.ofd.reject_z_mismatch is True
        assert get(sim.http + "/admin/status")["settings"] == {"reject_z_mismatch": True}
        assert wrong_z_answer(sim) == 13
        post(sim.http + "/admin/settings", {"reject_z_mismatch": False})
    with Sim(db) as sim:
        assert sim.server.ofd.reject_z_mismatch is False and wrong_z_answer(sim) == 0
    with Sim(db, reject_z_mismatch=True) as sim:        # the start option sets it, and it is stored
        assert sim.server.ofd.reject_z_mismatch is True
    st = Store(db)
    try:
        assert st.settings() == {"reject_z_mismatch": True}
    finally:
        st.close()


def test_database_without_the_settings_table_opens_and_reads_the_default(tmp_path):
    db = str(tmp_path / "old.sqlite")
    st = Store(db)
    register_sample(st)
    st.close()
    # what an older simulator left: no settings table (nor x_checks)
    con = sqlite3.connect(db)
    con.execute("DROP TABLE settings")
    con.execute("DROP TABLE x_checks")
    con.commit()
    con.close()
    with Sim(db) as sim:
        assert sim.server.ofd.reject_z_mismatch is False
        assert post(sim.http + "/admin/settings", {"reject_z_mismatch": True}) == {"reject_z_mismatch": True}
        assert sim.session().send(build.system())[1].result.result_code == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT key, value FROM settings").fetchall() == [("reject_z_mismatch", "true")]
    con.close()


class Proc:
    def __init__(self, db, *flags):
        self.p = subprocess.Popen([sys.executable, "-m", "tools.ofdsim", "--db", db, "--port", "0", "--http", "0"]
                                  + list(flags), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        m = re.search(r"web http://\S+:(\d+)/", line)
        assert m, line + self.p.stderr.read()
        self.admin = "http://127.0.0.1:%s" % m.group(1)

    def settings(self):
        return get(self.admin + "/admin/settings")

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        assert self.p.wait(20) == 0


def cli(admin, *args):
    r = subprocess.run([sys.executable, "-m", "tools.ofdsim"] + list(args) + ["--admin", admin], cwd=ROOT,
                       capture_output=True, text=True, timeout=30)
    return r.returncode, json.loads(r.stdout)


def test_cli_settings_survive_a_restart_and_the_flag_sets_them_at_start(tmp_path):
    db = str(tmp_path / "ofd.sqlite")
    p = Proc(db)
    try:
        assert p.settings() == {"reject_z_mismatch": False}
        assert cli(p.admin, "settings", "--reject-z-mismatch", "on") == (0, {"reject_z_mismatch": True})
    finally:
        p.stop()
    p = Proc(db)                                        # no flag: the setting made at run time
    try:
        assert p.settings() == {"reject_z_mismatch": True}
    finally:
        p.stop()
    p = Proc(db, "--no-reject-z-mismatch")              # the flag wins at start, and is kept
    try:
        assert p.settings() == {"reject_z_mismatch": False}
    finally:
        p.stop()
    p = Proc(db, "--reject-z-mismatch")
    try:
        assert cli(p.admin, "settings") == (0, {"reject_z_mismatch": True})
    finally:
        p.stop()
    p = Proc(db)
    try:
        assert p.settings() == {"reject_z_mismatch": True}
    finally:
        p.stop()


def test_switch_that_could_not_be_stored_is_not_changed_either(tmp_path):
    # the stored value is the truth (a restart reads it): a write that fails,
    # e.g. SQLite busy past its timeout, leaves the running switch as it was
    from tools.ofdsim.ofd import Ofd
    st = Store(str(tmp_path / "ofd.sqlite"))
    try:
        ofd = Ofd(st)
        assert ofd.reject_z_mismatch is False

        def locked(key, value):
            raise sqlite3.OperationalError("database is locked")
        st.set_setting = locked
        try:
            ofd.reject_z_mismatch = True
        except sqlite3.OperationalError:
            pass
        assert ofd.reject_z_mismatch is False and st.setting("reject_z_mismatch", False) is False
    finally:
        st.close()
