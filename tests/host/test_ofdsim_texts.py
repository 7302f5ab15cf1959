"""Simulated OFD: texts (ServiceResponse.ticket_ads, PROTOCOL.md section 9)
come with every answer that carries a service block (ticket, close shift,
report, money placement, system, info), newer than the versions the request
reports in service.ticket_ad_infos; a server-block answer (15, section 13)
always carries the block reason as its TICKET_AD_INFO text, with a version
that does not move the register's, and otherwise honours the reported
versions. The blocked answers are also fed to the register's own text store
(firmware ofd.texts) to show what a register makes of them (KZ-17)."""

import os
import sys

import pytest

from tools.ofdsim import build
from tools.ofdsim.testkit import Sim, at

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "firmware"))

from ofd import texts as OT  # noqa: E402

OFD, ORG, INFO = 0, 1, 4
LINE = [("Нан / Хлеб", 2000, 18000, "1")]
REASON = "ОФД-ға хабарласыңыз / Обратитесь в ОФД"


def report(versions, req):
    """req with service.ticket_ad_infos = versions {type: version}."""
    for typ, ver in sorted(versions.items()):
        a = req.service.ticket_ad_infos.add()
        a.type = typ
        a.version = ver
    return req


def ads(resp):
    return sorted((a.info.type, a.info.version, a.text) for a in resp.service.ticket_ads)


def as_dicts(resp):
    # the form ofd.codec gives the register
    return [{"info": {"type": a.info.type, "version": a.info.version}, "text": a.text}
            for a in resp.service.ticket_ads]


@pytest.fixture()
def sim():
    with Sim() as s:
        yield s


def every_command():
    """One request of each command whose answer carries a service block, in an order the OFD accepts."""
    return [("system", lambda: build.system()),
            ("money placement", lambda: build.money_placement(at(8), 50000)),
            ("ticket", lambda: build.ticket(at(9), LINE)),
            ("report x", lambda: build.report("x", at(10))),
            ("info", lambda: build.info()),
            ("close shift", lambda: build.close_shift(at(20))),
            ("report z", lambda: build.report("z", at(21)))]


def test_kz17_texts_come_with_every_answer_that_has_a_service_block(sim):
    ses = sim.session()
    v_info = sim.store("add_ad", sim.kkm_id, INFO, "Сәлем! / Привет!")
    v_ofd = sim.store("add_ad", None, OFD, "ОФД жаңалықтары / Новости ОФД")
    both = [(OFD, v_ofd, "ОФД жаңалықтары / Новости ОФД"), (INFO, v_info, "Сәлем! / Привет!")]
    # three shifts of the same commands: nothing reported (every newest
    # text), the INFO text's version reported, both reported
    for versions, expect in (({}, both), ({INFO: v_info}, both[:1]), ({INFO: v_info, OFD: v_ofd}, [])):
        for name, make in every_command():
            _, r = ses.send(report(versions, make()))
            assert r.result.result_code == 0, name
            assert ads(r) == expect, (name, versions)


def test_kz17_reported_version_at_or_above_the_current_one_gets_none(sim):
    ses = sim.session()
    v1 = sim.store("add_ad", sim.kkm_id, INFO, "бірінші / первое")
    v2 = sim.store("add_ad", sim.kkm_id, INFO, "екінші / второе")
    _, r = ses.send(report({INFO: v1}, build.ticket(at(9), LINE)))
    assert ads(r) == [(INFO, v2, "екінші / второе")]     # the newest of the type only
    _, r = ses.send(report({INFO: v2}, build.money_placement(at(9, 5), 100)))
    assert r.result.result_code == 0 and ads(r) == []
    _, r = ses.send(report({INFO: v2 + 100}, build.ticket(at(9, 10), LINE)))
    assert r.result.result_code == 0 and ads(r) == []
    # the answer keeps its texts byte for byte when the register resends the request
    req = build.ticket(at(9, 20), LINE)
    token = ses.token
    _, r1 = ses.send(req)
    _, r2 = ses.send(req, reqnum=ses.reqnum, token=token)
    assert r1.SerializeToString() == r2.SerializeToString() and ads(r1) == [(INFO, v2, "екінші / второе")]


def test_kz17_nomenclature_and_refused_answers_carry_no_texts(sim):
    ses = sim.session()
    sim.store("add_ad", sim.kkm_id, INFO, "Сәлем! / Привет!")
    _, r = ses.send(build.nomenclature(version=0))
    assert r.result.result_code == 0 and ads(r) == []
    _, r = ses.send(build.money_placement(at(9), 100, withdrawal=True))  # no cash: 14
    assert r.result.result_code == 14 and ads(r) == []


def test_blocked_answer_carries_the_reason_even_when_an_info_message_exists(sim):
    ses = sim.session()
    v_info = sim.store("add_ad", sim.kkm_id, INFO, "Сәлем! / Привет!")
    v_ofd = sim.store("add_ad", None, OFD, "ОФД жаңалықтары / Новости ОФД")
    sim.store("set_blocked", sim.kkm_id, True, REASON)
    # nothing reported: the OFD text and, as the INFO text, the reason (version 0), not the message
    _, r = ses.send(build.system(get_reg_info=True))
    assert r.result.result_code == 15
    assert ads(r) == [(OFD, v_ofd, "ОФД жаңалықтары / Новости ОФД"), (INFO, 0, REASON)]
    # versions reported: honoured for the other types; the reason with the register's own INFO version
    _, r = ses.send(report({INFO: v_info, OFD: v_ofd}, build.ticket(at(9), LINE)))
    assert r.result.result_code == 15 and ads(r) == [(INFO, v_info, REASON)]
    # a block without a reason: the protocol's text for 15
    sim.store("set_blocked", sim.kkm_id, True, "")
    _, r = ses.send(report({INFO: v_info, OFD: v_ofd}, build.system()))
    assert ads(r) == [(INFO, v_info, "ККМ бұғатталған / ККМ заблокирована")]
    assert sim.store("count", "tickets") == 0


def test_blocked_answer_of_an_undecodable_request_still_has_the_reason(sim):
    from tools.ofdsim import client
    from tools.ofdsim.pbutil import pb
    sim.store("set_blocked", sim.kkm_id, True, REASON)
    # command SYSTEM, then a truncated field: the versions cannot be read
    head, body = client.exchange_bytes("127.0.0.1", sim.port, sim.kkm_id, sim.token, 1, b"\x08\x00\x32\x05\x32")
    r = pb().Response()
    r.ParseFromString(body)
    assert r.result.result_code == 15 and ads(r) == [(INFO, 0, REASON)]


def test_kz17_register_shows_the_reason_then_gets_the_message_held_back(sim):
    """What the register (ofd.texts) makes of the answers: the reason is
    its lock message, its INFO version does not move, and the INFO message
    posted during the block comes with the first answer after it."""
    t = OT.OfdTexts()
    ses = sim.session()
    v1 = sim.store("add_ad", sim.kkm_id, INFO, "бірінші хабар / первое сообщение")

    def send(req, blocked=False):
        _, r = ses.send(report({a["type"]: a["version"] for a in t.infos()}, req))
        assert (r.result.result_code == 15) == blocked
        return t.take(as_dicts(r), r.result.result_code == 15)

    assert send(build.system()) == 1 and t.ver[INFO] == v1
    assert t.done(INFO, v1, OT.SHOW) and t.done(INFO, v1, OT.PRINT)
    v2 = sim.store("add_ad", sim.kkm_id, INFO, "екінші хабар / второе сообщение")
    sim.store("set_blocked", sim.kkm_id, True, REASON)
    assert send(build.system(), blocked=True) == 1
    assert t.text[INFO] == REASON and t.ver[INFO] == v1          # the lock message, the version kept
    assert t.pending(OT.SHOW) == [(INFO, v1, REASON)]
    assert send(build.ticket(at(9), LINE), blocked=True) == 0  # the same reason again: nothing new
    sim.store("set_blocked", sim.kkm_id, True, "Тексеріс / Проверка")
    assert send(build.system(), blocked=True) == 1 and t.text[INFO] == "Тексеріс / Проверка"
    sim.store("set_blocked", sim.kkm_id, False, "")
    assert send(build.system()) == 1                            # the message held back during the block
    assert (t.ver[INFO], t.text[INFO]) == (v2, "екінші хабар / второе сообщение")
    assert send(build.system()) == 0


def test_kz17_register_that_held_nothing_gets_every_message_after_the_block(sim):
    t = OT.OfdTexts()
    ses = sim.session()
    v1 = sim.store("add_ad", sim.kkm_id, INFO, "хабар / сообщение")
    sim.store("set_blocked", sim.kkm_id, True, REASON)
    _, r = ses.send(build.system())
    assert t.take(as_dicts(r), True) == 1 and (t.ver[INFO], t.text[INFO]) == (0, REASON)
    sim.store("set_blocked", sim.kkm_id, False, "")
    _, r = ses.send(report({a["type"]: a["version"] for a in t.infos()}, build.system()))
    assert t.take(as_dicts(r), False) == 1 and (t.ver[INFO], t.text[INFO]) == (v1, "хабар / сообщение")
