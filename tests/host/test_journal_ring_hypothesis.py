# Property test of ring reuse with hypothesis (KZ-8, KZ-28): any sequence of
# appends, acknowledgements, checkpoints, shift closes, clock jumps and
# reboots keeps every record that must be kept, and a refused append changes
# nothing. The core test runs the same invariants with a fixed random seed.
from hypothesis import given, settings, HealthCheck, strategies as st

from boards.sim.nor_flash import NorFlash
from journal import Accumulator, JournalFull
from test_journal_ring import check

KEY = b"hyp-key"
T0 = 1700000000

op = st.one_of(
    st.tuples(st.just("app"), st.integers(0, 600), st.booleans()),
    st.tuples(st.just("ack")),
    st.tuples(st.just("ckpt")),
    st.tuples(st.just("z")),
    st.tuples(st.just("clock"), st.integers(1, 100000)),
    st.tuples(st.just("reboot")),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=150), blocks=st.integers(3, 6),
       retention=st.sampled_from([0, 500, 5000, 100000]))
def test_kz_8_ring_never_drops_what_must_be_kept(ops, blocks, retention):
    log, fm = NorFlash(blocks), NorFlash(2)
    acc = Accumulator(log, fm, KEY, retention)
    ts = T0
    docs, store, ckpt, shift_start = [], {}, None, 1
    for i, o in enumerate(ops):
        ts += 7
        last = acc.last_seq
        try:
            if o[0] == "app":
                p = bytes([i % 256]) * o[1]
                s = acc.append(16, p, ts, o[2])
                store[s] = p
                if o[2]:
                    docs.append(s)
            elif o[0] == "ack" and docs:
                acc.ack(docs[0], b"fp", ts)
                docs.pop(0)
            elif o[0] == "ckpt":
                ckpt = acc.checkpoint(b"c", ts)
            elif o[0] == "z" and acc.z_slots_left():
                acc.close_shift(b"z", ts)
                shift_start = acc.last_seq
            elif o[0] == "clock":
                ts += o[1]
            elif o[0] == "reboot":
                acc = Accumulator(log, fm, KEY, retention)
                assert acc.self_test().ok
        except JournalFull:
            assert acc.last_seq == last
        check(acc, docs, store, ckpt, shift_start)
