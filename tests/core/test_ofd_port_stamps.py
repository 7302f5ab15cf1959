# A queued document is sent as it was fiscalised (KZ-43.2, KZ-30.3, KZ-22):
# besides its VAT rates (test_ofd_port_rates) a receipt and a placement
# carry the operator's name and the UTC offset of their local time (record
# versions 3 and 2), and a Z document carries who closed the shift, so
# renaming a cashier, re-registering the time zone, logging in as someone
# else or rebooting while documents wait never changes what the OFD gets.
from kkm import auth as A
from kkm import document as D
from kkm import doccodec as DC
from ofd import codec
from ofd import schema as S
from regkit import REG, line, sell
from test_ofd_port_rates import _bench, _offline

def _requests(b, command):
    out = []
    for i in range(len(b.store.stored)):
        q = b.store.request(i)
        if q["command"] == command:
            out.append(q)
    return out


def _build(b, kind, seq):
    rtype, ts, payload = b.reg.acc.read(seq)
    return b.port.build(kind, seq, payload)


BLOCK = {"receipt": ("ticket", S.TicketRequest), "placement": ("money_placement", S.MoneyPlacementRequest),
         "z": ("close_shift", S.CloseShiftRequest)}


def _block(b, kind, seq):
    # the document block of the request (the service block is built anew
    # for every attempt: the offline period runs up to now)
    name, msg = BLOCK[kind]
    return codec.encode(msg, _build(b, kind, seq)[name])


def test_kz_22_queued_z_names_who_closed_the_shift():
    # the administrator closes the shift offline; after a reboot nobody is
    # logged in when the queue drains, then a cashier is: the Z still names
    # the administrator
    b = _bench()
    r = b.reg
    sell(r)
    _offline(b, True)
    r.login(2, "2222", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    zseq = r.acc.unacked()[0]
    assert _build(b, "z", zseq)["close_shift"]["operator"] == {"code": 2, "name": "Админ"}
    r = b.boot()
    assert r.auth.current is None
    assert _build(b, "z", zseq)["close_shift"]["operator"] == {"code": 2, "name": "Админ"}
    r.login(1, "1111", A.MODE_SALES)
    assert _build(b, "z", zseq)["close_shift"]["operator"] == {"code": 2, "name": "Админ"}
    _offline(b, False)
    assert r.replay() == 1
    cs = _requests(b, S.COMMAND_CLOSE_SHIFT)[-1]["close_shift"]
    assert cs["operator"] == {"code": 2, "name": "Админ"} and cs["is_offline"]


def test_kz_43_2_rename_and_new_time_zone_do_not_change_queued_documents():
    b = _bench()
    r = b.reg
    _offline(b, True)
    res = sell(r, [line("Нан", 25000, 1000)])
    dep = r.deposit(100000)
    r.login(1, "1111", A.MODE_SHIFT_CLOSE)
    r.close_shift()
    seqs = r.acc.unacked()
    assert len(seqs) == 3
    kinds = ("receipt", "placement", "z")
    before = [_block(b, k, s) for k, s in zip(kinds, seqs)]
    t = _build(b, "receipt", res.seq)["ticket"]
    assert t["operator"] == {"code": 1, "name": "Айгүл"}
    assert t["date_time"]["time"]["hour"] == 13  # 08:00 UTC at +5
    # re-registration with the shift closed: UTC+6; the cashier renamed
    r.login(2, "2222", A.MODE_PROGRAMMING)
    r.change_settings({"tz_offset": 6 * 3600})
    r.set_user(1, "Бекзат", A.ROLE_CASHIER, "1111")
    after = [_block(b, k, s) for k, s in zip(kinds, seqs)]
    assert after == before
    # a copy printed now shows the document's own local time
    r.login(1, "1111", A.MODE_SALES)
    cp = r.copy_last()
    assert cp.doc is dep.doc and [x for x in dep.lines if "13:00" in x[1]]
    assert [x for x in dep.lines if "13:00" in x[1]] == [x for x in cp.lines if "13:00" in x[1]]
    r = b.boot()
    assert r.settings.get("tz_offset") == 6 * 3600
    assert [_block(b, k, s) for k, s in zip(kinds, seqs)] == before
    r.login(1, "1111", A.MODE_SALES)
    _offline(b, False)
    assert r.replay() == 3
    t = _requests(b, S.COMMAND_TICKET)[-1]["ticket"]
    assert t["operator"] == {"code": 1, "name": "Айгүл"} and t["date_time"]["time"]["hour"] == 13
    mp = _requests(b, S.COMMAND_MONEY_PLACEMENT)[-1]["money_placement"]
    assert mp["operator"] == {"code": 1, "name": "Айгүл"} and mp["datetime"]["time"]["hour"] == 13
    cs = _requests(b, S.COMMAND_CLOSE_SHIFT)[-1]["close_shift"]
    assert cs["operator"] == {"code": 1, "name": "Айгүл"} and cs["close_time"]["time"]["hour"] == 13
    # a new sale is stamped with the new name and zone
    res = sell(r)
    t = _requests(b, S.COMMAND_TICKET)[-1]["ticket"]
    assert t["operator"] == {"code": 1, "name": "Бекзат"} and t["date_time"]["time"]["hour"] == 14
    assert res.doc.utc_offset == 6 * 3600


def test_issuer_stamps_round_trip_and_bounds():
    long_name = "Ә" * 30  # 60 bytes: cut to 40 on a character boundary
    assert D.operator_stamp(long_name) == "Ә" * 20
    assert D.operator_stamp("A" + "Ә" * 30) == "A" + "Ә" * 19
    assert D.operator_stamp("") is None and D.operator_stamp(None) is None
    rc = D.Receipt(D.OP_SELL, 7)
    rc.add_line(line())
    rc.add_payment(D.Payment(D.PAY_CASH, 25000))
    from kkm import tax

    rc.validate(tax.default_table(), None, long_name, -12 * 3600)
    back = DC.decode_receipt(DC.encode_receipt(rc))
    assert (back.operator_name, back.utc_offset) == ("Ә" * 20, -12 * 3600)
    assert DC.encode_receipt(back) == DC.encode_receipt(rc)
    p = D.Placement(D.WITHDRAWAL, 100, 7, "Кассир", 14 * 3600)
    q = DC.decode_placement(DC.encode_placement(p))
    assert (q.operator_name, q.utc_offset) == ("Кассир", 14 * 3600) and DC.encode_placement(q) == DC.encode_placement(p)
    z = DC.encode_z(b"\x01\x02", 9, "Сервис", 5 * 3600)
    assert DC.decode_z(z) == (9, "Сервис", 5 * 3600, b"\x01\x02")
    # a body without the stamp (the counters alone) was never journalled by a register
    for bad in (z[:3], bytes([DC.Z_STAMPED, 1]), b"\x01\x02"):
        try:
            DC.decode_z(bad)
            raise AssertionError("decoded")
        except D.DocumentError as e:
            assert e.args[0] == D.texts.E_DECODE
