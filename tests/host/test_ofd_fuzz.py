"""Bounded fuzzing of the firmware protocol decoder and framing reader.

The full campaign (100,000 inputs) is `make fuzz` (tools/fuzz_ofd.py); this
runs a smaller, fixed-seed slice on every test run, a memory-bounded slice
under tracemalloc, and a short slice under MicroPython.
"""

import os
import shutil
import subprocess
import time
import tracemalloc

import pytest

from tools import fuzz_ofd

import ofd
from ofd import codec, frame, header, schema

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def test_kz_4_fuzz_decoder_and_framing_8000_inputs():
    t0 = time.monotonic()
    stats = fuzz_ofd.run(8000, seed=20260314)
    assert stats["inputs"] == 8000
    assert time.monotonic() - t0 < 30
    # the mix really exercises both paths and many error kinds
    assert stats["decoded"] > 200 and stats["frames_ok"] > 100
    for reason in ("truncated", "bad varint", "wrong wire type", "frame too large", "too deep"):
        assert stats["reasons"].get(reason, 0) > 0, reason
    assert set(stats["reasons"]) <= {
        "truncated", "bad varint", "wrong wire type", "bad wire type", "bad field number",
        "bad utf-8", "missing required field", "too deep", "frame too large", "bad frame size",
        "bad application code", "unsupported version", "unknown message type",
    }


def test_fuzz_memory_is_bounded():
    c = fuzz_ofd.Campaign(seed=7)
    c.make_seeds(60)
    seed_bytes = [p for _, p in c.seeds]
    worst = 0
    tracemalloc.start()
    try:
        for i in range(1500):
            m, data = c.rng.pick(c.seeds)
            data = fuzz_ofd.mutate(c.rng, data, seed_bytes)
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            try:
                codec.decode(m, data)
            except ofd.ProtocolError:
                pass
            peak = tracemalloc.get_traced_memory()[1] - base
            worst = max(worst, peak - 40 * len(data))
    finally:
        tracemalloc.stop()
    # decoded dicts are proportional to the input; nothing else grows
    assert worst < 64 * 1024, worst


def test_huge_lengths_do_not_allocate():
    lies = [
        bytes([0x12]) + bytes([0xFF, 0xFF, 0xFF, 0xFF, 0x0F]) + b"x",  # ticket: 4 GiB
        bytes([0x12]) + bytes([0xFF] * 8 + [0x7F]) + b"x",  # 2**63-ish
        bytes([0x62]) + bytes([0xFF, 0xFF, 0xFF, 0x7F]) + b"abc",  # unknown field 12
    ]
    tracemalloc.start()
    try:
        for data in lies:
            tracemalloc.reset_peak()
            with pytest.raises(ofd.ProtocolError) as e:
                codec.decode(schema.Request, data)
            assert e.value.args[0] == "truncated"
            assert tracemalloc.get_traced_memory()[1] < 16 * 1024
    finally:
        tracemalloc.stop()


class Endless:
    """A peer that never stops sending."""

    def __init__(self, head):
        self.head = head
        self.pos = 0

    def read(self, n):
        if self.pos < len(self.head):
            b = self.head[self.pos : self.pos + n]
        else:
            b = b"\x00" * min(n, 4096)
        self.pos += len(b)
        return b


def test_framing_reads_exactly_the_announced_size_from_an_endless_peer():
    s = Endless(header.pack(18 + 5000, 1, 2, 3))
    h, payload = frame.read_frame(s)
    assert len(payload) == 5000 and s.pos == 18 + 5000
    s = Endless(header.pack(0xFFFFFFFF, 1, 2, 3))
    with pytest.raises(ofd.ProtocolError) as e:
        frame.read_frame(s)
    assert e.value.args == ("frame too large", 0xFFFFFFFF) and s.pos == 18


@pytest.mark.skipif(not shutil.which("micropython"), reason="micropython unix port not installed")
def test_fuzz_campaign_runs_on_micropython():
    mp = shutil.which("micropython")
    r = subprocess.run([mp, "tools/fuzz_ofd.py", "800", "--seed", "5"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "fuzz_ofd (micropython): 800 inputs" in r.stdout
    assert "only ofd.ProtocolError raised" in r.stdout
