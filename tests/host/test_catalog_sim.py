# The National Catalogue from the register against the simulated OFD
# (S000-1, S001-3, R-56(7), R-56(8)): the simulated register sells by
# barcode through the firmware (ofd.sender catalogue_item: the kkm.catalog
# cache, else ofd.port COMMAND_NOMENCLATURE over TCP), the simulator answers
# from tools/ofdsim/catalogue.json.

import io
import os
import sqlite3
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, ROOT)

from tools import regshell as S  # noqa: E402

NOMENCLATURE = 4


def _db(var):
    db = sqlite3.connect(os.path.join(var, "ofd.sqlite"))
    db.row_factory = sqlite3.Row
    return db


def _asked(var):
    from tools.pb import load

    pb = load()
    out = []
    for row in _db(var).execute("SELECT request, answer, result FROM exchanges WHERE command = ? ORDER BY id",
                                (NOMENCLATURE,)):
        q = pb.Request()
        q.ParseFromString(row["request"])
        a = pb.Response()
        a.ParseFromString(row["answer"])
        out.append((q.nomenclature, a, row["result"]))
    return out


def _paper(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def test_sim_register_names_lines_from_the_ofd_not_from_a_file(tmp_path):
    var = str(tmp_path / "var")
    paper = str(tmp_path / "paper.txt")
    out = io.StringIO()
    sr = S.SimRegister(var, out, print_file=paper, lang="kk", catalogue="strict")
    try:
        fails = S.run(sr, ["login 1 1234", "sale 0200000000028 1800 1.5", "sale 4870001000011 180 2",
                           "sale 4870001000011 180 1", "pay cash 3420"])
        assert fails == 0, out.getvalue()
        asked = _asked(var)
        # one request per code: the second bread came from the register's cache
        assert [q.barcode for q, a, r in asked] == ["0200000000028", "4870001000011"]
        assert all(r == 0 and a.nomenclature.result == 0 for q, a, r in asked)
        text = _paper(paper)
        # the NTIN item shows its names in Kazakh and Russian and its code
        assert "1. Қымыз, құйып сату" in text and "   Кумыс, в розлив" in text
        assert "NTIN" in text and "0200000000028" in text
        assert "2. Ақ нан, 500 г" in text and "   Хлеб белый, 500 г" in text
        # the OFD stored the catalogue's Russian title and element id
        from tools.pb import load

        pb = load()
        row = _db(var).execute("SELECT request FROM exchanges WHERE command = 1 ORDER BY id DESC").fetchone()
        q = pb.Request()
        q.ParseFromString(row["request"])
        c = q.ticket.items[0].commodity
        assert (c.name, c.code, c.ntin, c.measure_unit_code) == ("Кумыс, в розлив", 111, "0200000000028", "112")
    finally:
        sr.close()
    # the cache is in its file: after a restart the bread is not asked
    # again; the idle tick asks once by version (the simulator's is current)
    out2 = io.StringIO()
    sr = S.SimRegister(var, out2, lang="kk")
    try:
        assert S.run(sr, ["login 1 1234", "sale 4870001000011 180 1", "pay cash 180"]) == 0, out2.getvalue()
        asked = _asked(var)
        assert [q.barcode for q, a, r in asked[:2]] == ["0200000000028", "4870001000011"] and len(asked) == 3
        q, a, r = asked[2]
        assert not q.HasField("barcode") and q.current_version == 3 and a.nomenclature.result == 1
        assert "National Catalogue version check: version 3" in out2.getvalue()
    finally:
        sr.close()


def test_sim_register_unknown_code_pair_unit_marked_good_and_strict_rule(tmp_path):
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out, catalogue="strict")
    try:
        S.run(sr, ["login 1 1234"])
        # result 18: a clear message, nothing else changes
        assert S.run(sr, ["sale 4600000000008 100"]) == 1
        assert "error: Товар не найден в Национальном каталоге товаров (171)" in out.getvalue()
        asked = _asked(var)
        assert asked[-1][2] == 18 and asked[-1][1].nomenclature.result == 3
        # strict: goods typed by name are refused
        assert S.run(sr, ["sale Нан 250"]) == 1
        assert "error: Товар не из Национального каталога" in out.getvalue()
        # a marked good needs its marking code
        assert S.run(sr, ["sale 4870001000141 950"]) == 1
        assert "error: Отсканируйте код маркировки (111)" in out.getvalue()
        # shoes are sold in pairs (ESF 715), marked: one code per pair
        assert S.run(sr, ["sale 4870001000165 24500 1 0104870001000165215XyZ", "pay cash 24500"]) == 0, \
            out.getvalue()
        assert "Обувь, кожаные ботинки x 1 = 24 500.00" in out.getvalue()
        row = _db(var).execute("SELECT request FROM exchanges WHERE command = 1 ORDER BY id DESC").fetchone()
        from tools.pb import load

        q = load().Request()
        q.ParseFromString(row["request"])
        c = q.ticket.items[0].commodity
        assert (c.measure_unit_code, list(c.list_excise_stamp), c.code) == ("715", ["0104870001000165215XyZ"], 118)
    finally:
        sr.close()


def test_sim_register_soft_rule_sells_by_name_and_says_so(tmp_path):
    var = str(tmp_path / "var")
    out = io.StringIO()
    sr = S.SimRegister(var, out, catalogue="soft")
    try:
        assert S.run(sr, ["login 1 1234", "sale Нан 250", "pay cash 250"]) == 0, out.getvalue()
        assert "! Товар продан без кода Национального каталога" in out.getvalue()
    finally:
        sr.close()


def test_ofdsim_nomenclature_needs_a_barcode_or_a_version():
    # PROTOCOL.md section 10: one of the two (the protocol's codec refuses
    # a request with neither); an empty block is not "version 0"
    from tools.ofdsim import build
    from tools.ofdsim.testkit import Sim

    with Sim() as sim:
        ses = sim.session()
        req = build.nomenclature(version=0)
        req.nomenclature.ClearField("current_version")
        _, r = ses.send(req)
        assert r.result.result_code == 13 and "barcode or current_version" in r.result.result_text
        _, r = ses.send(build.nomenclature(version=0))
        assert r.result.result_code == 0 and len([e for e in r.nomenclature.elements if e.type == 1]) == 20
        _, r = ses.send(build.nomenclature(barcode="0200000000028"))
        e = r.nomenclature.elements[0]
        assert (e.title, e.title_kk, e.item.ntin, e.item.HasField("barcode")) == (
            "Кумыс, в розлив", "Қымыз, құйып сату", "0200000000028", False)
