# The register's printer port (firmware/app.py, the board interface) on an
# ESC/POS printer (drivers/escpos.py): kkm.layout lines become driver
# commands. print(lines) only queues a job and returns it; run(), a task of
# the app, sends the jobs in paced chunks, asks for the printer's
# confirmation after each, and polls the real-time status between jobs.
# A job is done (True) only when the printer confirmed it; a failed job
# (False) says whether any of it went out (started): the register prints
# it again as a copy (kkm.register.paper_check).

import asyncio

from aio import Timeout, wait_for_ms
from drivers import escpos as E
from kkm import layout

POLL_MS = 1000  # the status poll between jobs
CONFIRM_MS = 3000  # the printer's answer after a job: the time to print it,
LINE_MS = 100  # plus this per line (a slow 58 mm head prints 50 mm/s)
# the driver's findings as the app's printer states
_STATES = {E.OK: "ok", E.NO_PAPER: "no_paper"}


class Job:
    def __init__(self, lines):
        self.lines = lines
        self.done = None  # True: confirmed on paper; False: failed
        self.started = False  # some of it was sent to the printer


class EscPosPrinter:
    def __init__(self, uart, profile, baud=115200):
        self.drv = E.EscPos(uart, profile, baud)
        self.width = profile.cols  # the layout's characters per line
        self.found = None  # the driver's last status (None: not asked yet)
        self.jobs = []
        self.wake = None

    def status(self):
        # "ok" | "no_paper" | "fault" (cover open, an error, no answer, or
        # not asked yet)
        return _STATES.get(self.found, "fault")

    def print(self, lines):
        if self.status() != "ok":
            raise OSError(5, "printer %s" % self.found)
        job = Job(lines)
        self.jobs.append(job)
        if self.wake is not None:
            self.wake.set()
        return job

    async def poll(self):
        d = self.drv
        st = await d.status()
        if st == E.OK and not d.ready:
            await d.start()  # at power-up and after it was unplugged: glyphs, code page
        self.found = st
        return st

    async def run(self):
        self.wake = asyncio.Event()
        while True:
            if self.jobs:
                try:
                    await self.job(self.jobs[0])
                except (OSError, ValueError):
                    # the line or the data broke off (a pipe, a QR too long):
                    # the job failed, the task goes on
                    self.found = E.FAULT
                    self._fail()
                continue
            await self.poll()
            try:
                await wait_for_ms(self.wake.wait(), POLL_MS)
            except Timeout:
                pass
            self.wake.clear()

    async def job(self, job):
        # one job to the end: confirmed, or failed with every job behind it
        d = self.drv
        if await self.poll() == E.OK:
            job.started = True
            await d.send(E.JOB_START)
            text = False
            for style, s in job.lines:
                text = text or bool(s.strip())
                if style & layout.QR:
                    await d.print_qr(s.encode())
                else:
                    await d.send(d.line(s, bool(style & layout.BOLD), bool(style & layout.DOUBLE)))
            if text:
                await d.send(d.cut())  # a document ends with a cut; a paper feed does not
            if await d.confirm(CONFIRM_MS + LINE_MS * len(job.lines)):
                job.done = True
                self.jobs.pop(0)
                return
            st = await d.status()
            self.found = E.FAULT if st == E.OK else st  # no confirmation from a "ready" printer
            await d.clear()
        self._fail()

    def _fail(self):
        # the job in hand and every one behind it
        for j in self.jobs:
            j.done = False
        self.jobs = []
