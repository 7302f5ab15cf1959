# A short slice of the chaos run (tools/chaos.py; `make chaos` runs three
# days): the register with Wi-Fi and GSM (the SIM800 driver on the modem
# simulator) against the OFD simulator through outages of each channel and
# of the OFD, lost, late and 254/255 answers, OFD restarts and power cuts,
# then 73 hours without any channel. The OFD ends up with exactly the
# journal's documents in order with equal Zs, and the 24 h and 72 h locks
# fire to the second.
# Requirements: KZ-14, KZ-18, KZ-29, KZ-29.6, KZ-30, KZ-31.5.

from tools import chaos


def test_kz_18_kz_29_chaos_slice_ofd_holds_exactly_the_journal(tmp_path, capsys):
    assert chaos.campaign(3, 3, str(tmp_path / "chaos"))
    out = capsys.readouterr().out
    assert "all in journal order: yes" in out and "waiting 0" in out
    assert "24 h locks 1, 72 h locks 1" in out
