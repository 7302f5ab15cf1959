# The sender (ofd.sender): a live document within the budget, the budget
# spent (autonomous sign, countdown), nothing overtakes the queue, replay in
# journal order at the retry interval, a power cut between issue and
# settle. Time is injected: the budget runs on a virtual millisecond clock
# and the schedule on the register's manual clock (no real waiting).
from kkm import document as D
from kkm import locks as L
from kkm import records as RC
from kkm.register import Register
from ofd import schema as S
from ofd.sender import Sender
from ofdkit import link_bench, queue_offline, run
from regkit import line


IDLE_TURNS = 50  # loop turns without the clock moving before a sleeper moves it


class Ticks:
    # a virtual millisecond clock: a sleeper waits until the clock reaches
    # its end; the earliest waiting end moves the clock there
    def __init__(self):
        self.ms = 0
        self.ends = []

    def ticks_ms(self):
        return self.ms

    async def sleep_ms(self, ms):
        # the clock moves only when the loop has had turns to spare: work in
        # progress (an exchange over the in-memory link) takes no virtual time
        import asyncio

        end = self.ms + ms
        self.ends.append(end)
        idle = 0
        seen = self.ms
        try:
            while self.ms < end:
                await asyncio.sleep(0)
                idle = idle + 1 if self.ms == seen else 0
                seen = self.ms
                if self.ms < end and end == min(self.ends) and idle >= IDLE_TURNS:
                    self.ms = end
        finally:
            self.ends.remove(end)


class SlowClient:
    # the async client's API over the bench's blocking one: the answer comes
    # after delay_ms of the virtual clock; lost=True: the OFD gets and
    # answers the request, the answer never arrives
    def __init__(self, inner, ticks):
        self.inner = inner
        self.session = inner.session
        self.ticks = ticks
        self.delay_ms = 0
        self.lost = False

    async def exchange(self, payload, command, key=None, budget_ms=5000):
        if self.lost:
            await self.inner.exchange(payload, command, key, budget_ms)
            while True:
                await self.ticks.sleep_ms(1000)
        await self.ticks.sleep_ms(self.delay_ms)
        return await self.inner.exchange(payload, command, key, budget_ms)

    def set_hosts(self, hosts):
        self.inner.set_hosts(hosts)

    def refresh(self):
        self.inner.refresh()


def _bench():
    b = link_bench()
    t = Ticks()
    port = b.port
    port.client = SlowClient(port.client, t)
    s = Sender(b.reg, port, ticks_ms=t.ticks_ms, sleep_ms=t.sleep_ms)
    b.reg.sender = s
    b.ticks = t
    return b, s


def _issue(r, price=25000):
    # a sale issued (journalled), not settled
    rc = r.open_receipt(D.OP_SELL)
    rc.add_line(line(price=price))
    return Register.pay(r, D.PAY_CASH, rc.total())


def test_kz_29_live_sign_within_the_budget_with_the_countdown():
    b, s = _bench()
    r = b.reg
    b.port.client.delay_ms = 1200
    iss = _issue(r)
    assert iss.seq in r.acc.unacked() and not iss.queued  # journalled before it is sent
    ticks = []
    res = run(s.live(iss, ticks.append))
    assert not res.offline and res.fiscal_sign.startswith("50000")  # the OFD's sign (ofdkit)
    assert ticks == [5, 4] and b.ticks.ms < 1300  # the cashier saw 5 s, then 4 s left
    assert r.acc.unacked() == [] and s.status()["mode"] == "online"
    assert b.printer.printed[-1] is res.lines


def test_kz_29_budget_spent_autonomous_sign_and_the_countdown():
    b, s = _bench()
    r = b.reg
    b.port.client.delay_ms = 60000  # the OFD accepts the connection and never answers
    n = len(b.link.log)
    iss = _issue(r)
    ticks = []
    res = run(s.live(iss, ticks.append))
    assert ticks == [5, 4, 3, 2, 1] and b.ticks.ms == 5000  # at most the budget
    assert res.offline and res.fiscal_sign == RC.autonomous_sign(iss.seq) and res.printed
    assert RC.sign_of(r.acc, iss.seq) == res.fiscal_sign  # journalled before the paper
    assert len(b.link.log) == n and r.acc.unacked() == [iss.seq]
    st = s.status()
    assert st["mode"] == "offline" and st["queue"] == 1 and st["next"] == 60
    assert b.port.offline_since is not None  # the offline period runs (KZ-30.1)


def test_lost_answer_after_the_budget_is_resent_with_its_token_and_reqnum_as_offline():
    b, s = _bench()
    r = b.reg
    b.port.client.lost = True
    stored = len(b.link.stored)
    iss = _issue(r)
    res = run(s.live(iss))
    assert res.offline and len(b.link.stored) == stored + 1  # the OFD has it, the register not its answer
    first = b.link.log[-1][1]
    b.port.client.lost = False
    b.clock.advance(60)
    assert run(s.replay()) == 1 and r.acc.unacked() == []
    again = b.link.log[-1][1]
    assert b.link.duplicates == 1 and len(b.link.stored) == stored + 1  # stored once
    assert "offline_ticket_number" not in first["ticket"]
    assert again["ticket"]["offline_ticket_number"] == int(res.fiscal_sign)  # the paper's number


def test_kz_30_2_a_live_document_never_overtakes_a_queue():
    b, s = _bench()
    r = b.reg
    seqs = queue_offline(b, 2)
    b.link.restore()
    n = len(b.link.log)
    iss = _issue(r)
    assert iss.queued
    ticks = []
    res = run(s.live(iss, ticks.append))
    assert res.offline and ticks == [] and len(b.link.log) == n  # not sent, no wait
    assert r.acc.unacked() == seqs + [iss.seq]


def test_kz_30_3_no_replay_between_issue_and_settle_the_document_goes_with_its_autonomous_sign():
    # the sender's step between a queued document's issue and its settle
    # (the UI awaits live() a turn later) would send it in its online form,
    # before its autonomous sign is journalled: the OFD would keep it online
    b, s = _bench()
    r = b.reg
    assert run(s.step()) == "test"
    seqs = queue_offline(b, 1)
    b.link.restore()
    b.clock.advance(60)  # the retry is due
    n = len(b.link.log)
    iss = _issue(r)
    assert iss.queued
    assert run(s.step()) is None and len(b.link.log) == n  # nothing sent before its settle
    res = run(s.live(iss))
    assert res.offline
    assert run(s.step()) == "replay" and r.acc.unacked() == []
    sent = [q["ticket"] for c, q in b.link.log[n:] if c == S.COMMAND_TICKET]
    assert len(sent) == len(seqs) + 1 and sent[-1]["offline_ticket_number"] == int(res.fiscal_sign)


def test_kz_30_2_replay_in_journal_order_every_retry_interval_and_the_72_h_lock():
    b, s = _bench()
    r = b.reg
    assert run(s.step()) == "test" and s.test == "ok"
    seqs = queue_offline(b, 3)
    t0 = b.clock.now()
    assert run(s.step()) is None  # the live failure started the retry clock
    for _ in range(3):
        b.clock.advance(59)
        assert run(s.step()) is None
        b.clock.advance(1)
        assert run(s.step()) == "replay" and r.acc.unacked() == seqs
    # 72 hours pass in one step of the clock: the lock (KZ-29.6), then the
    # link returns and the queue drains in journal order
    b.clock.t = t0 + L.SECONDS_72H + 1
    assert L.OFFLINE_72H in r.active_locks() and s.status()["lock_in"] == 0
    b.link.restore()
    n = len(b.link.log)
    assert run(s.step()) == "replay" and r.acc.unacked() == []
    sent = [q["ticket"]["offline_ticket_number"] for c, q in b.link.log[n:] if c == S.COMMAND_TICKET]
    assert sent == seqs
    assert L.OFFLINE_72H not in r.active_locks() and s.status()["mode"] == "online"


def test_power_cut_between_issue_and_settle():
    # the document is journalled, the power goes before its answer or sign:
    # recovery completes its autonomous sign and counts it as the journal says
    b, s = _bench()
    r = b.reg
    cash = r.counters.cash
    iss = _issue(r, 30000)
    r = b.boot()
    assert r.recovery.receipt == "restored" and r.recovery.seq == iss.seq
    assert RC.sign_of(r.acc, iss.seq) == RC.autonomous_sign(iss.seq)
    assert r.counters.cash == cash + 30000 and r.doc_no == iss.number
    assert r.last.fiscal_sign == RC.autonomous_sign(iss.seq) and r.last.offline
    assert r.acc.unacked() == [iss.seq] and L.N_RESTORED in r.notices
    # the sender sends it from the queue, as issued offline
    s = Sender(r, b.port)
    assert run(s.step()) == "test" and run(s.step()) == "replay" and r.acc.unacked() == []
    assert b.link.log[-1][1]["ticket"]["offline_ticket_number"] == iss.seq


def test_protocol_13_the_task_retries_the_queue_one_interval_after_the_failure():
    # the sender's task (run) on the virtual clock: the power-on test fails,
    # the link returns, the queue goes out 60 s after the failure, not before
    import asyncio

    b = link_bench()
    r = b.reg
    seqs = queue_offline(b, 2)
    t = Ticks()
    t0 = b.clock.now()
    s = Sender(r, b.port, now=lambda: t0 + t.ms // 1000, ticks_ms=t.ticks_ms, sleep_ms=t.sleep_ms)
    seen = []

    async def day():
        task = asyncio.create_task(s.run())
        await t.sleep_ms(30000)
        seen.append((s.test, list(r.acc.unacked())))
        b.link.restore()
        await t.sleep_ms(29000)  # 59 s after the failed test
        seen.append(list(r.acc.unacked()))
        await t.sleep_ms(2000)
        seen.append(list(r.acc.unacked()))
        task.cancel()

    run(day())
    assert seen == [("failed", seqs), seqs, []]
