# NOR flash emulator speaking the MicroPython block-device protocol, with the
# rules of a real SPI NOR chip (HARDWARE.md 5.2):
#   - erase works on whole blocks (4096 bytes) and sets every byte to 0xFF;
#   - programming can only clear bits: writing a 1 over a 0 raises FlashError
#     and nothing of that write is programmed (strict=False: no error, the
#     bytes become the AND of old and new, as on a real chip, which reports
#     nothing);
#   - writeblocks(block, buf) with 3 arguments erases the blocks it covers
#     first (like esp32.Partition), with 4 arguments it only programs;
#   - every erase is counted per block (wear);
#   - power-cut injection: cut_after(n) lets exactly n more bytes be programmed,
#     then raises PowerCut; later bytes of that write stay unwritten.
#     cut_erase() cuts the next erase instead: the first half of the block is
#     erased, the rest keeps the old data (cut_erase(True): the second half
#     is erased, the first keeps the old data).
# Portable: runs under CPython and the MicroPython unix port. save()/load()
# keep the image in a file (host only, for the simulated register).


class FlashError(OSError):
    pass


class PowerCut(Exception):
    pass


class NorFlash:
    def __init__(self, blocks, block_size=4096, image=None, strict=True):
        self.block_size = block_size
        self.strict = strict
        self.blocks = blocks
        self.size = blocks * block_size
        if image is None:
            self.data = bytearray(self.size)
            ff = b"\xff" * block_size
            for i in range(blocks):
                self.data[i * block_size : (i + 1) * block_size] = ff
        else:
            if len(image) != self.size:
                raise ValueError("image size")
            self.data = bytearray(image)
        self.erase_counts = [0] * blocks
        self.bytes_programmed = 0
        self.reads = 0
        self._budget = -1  # bytes that may still be programmed; -1 = no cut armed
        self._erase_cut = False
        self._erase_keep_start = False

    # -- power-cut injection ------------------------------------------------

    def cut_after(self, n):
        # Allow n more programmed bytes, then cut the power (n >= 0).
        self._budget = n

    def cut_erase(self, keep_start=False):
        self._erase_cut = True
        self._erase_keep_start = keep_start

    def disarm(self):
        self._budget = -1
        self._erase_cut = False

    def armed(self):
        return self._budget >= 0

    # -- snapshots (fast "reboot" in tests) ------------------------------------

    def snapshot(self):
        return (bytes(self.data), list(self.erase_counts))

    def restore(self, snap):
        self.data[:] = snap[0]
        self.erase_counts = list(snap[1])
        self.disarm()

    def copy(self):
        f = NorFlash(self.blocks, self.block_size, self.data, self.strict)
        f.erase_counts = list(self.erase_counts)
        return f

    # -- block-device protocol -----------------------------------------------

    def _range(self, block, n, offset):
        if block < 0 or offset < 0 or n < 0:
            raise FlashError(22)
        start = block * self.block_size + offset
        end = start + n
        if end > self.size:
            raise FlashError(22)
        return start, end

    def readblocks(self, block, buf, offset=0):
        start, end = self._range(block, len(buf), offset)
        self.reads += 1
        buf[:] = memoryview(self.data)[start:end]

    def writeblocks(self, block, buf, offset=None):
        if offset is None:
            # 3-argument form: erase the covered blocks, then program.
            start, end = self._range(block, len(buf), 0)
            last = (end - 1) // self.block_size if end > start else block - 1
            for b in range(block, last + 1):
                self._erase(b)
            self._program(start, buf)
        else:
            start, end = self._range(block, len(buf), offset)
            self._program(start, buf)

    def ioctl(self, op, arg):
        if op == 4:
            return self.blocks
        if op == 5:
            return self.block_size
        if op == 6:
            if arg < 0 or arg >= self.blocks:
                raise FlashError(22)
            self._erase(arg)
            return 0
        if op in (1, 2, 3):  # init, deinit, sync
            return 0
        return None

    # -- internals -------------------------------------------------------------

    def _erase(self, b):
        a = b * self.block_size
        if self._erase_cut:
            half = self.block_size // 2
            if self._erase_keep_start:
                a += half
            self.data[a : a + half] = b"\xff" * half
            self.erase_counts[b] += 1
            self._erase_cut = False
            raise PowerCut("erase")
        self.data[a : a + self.block_size] = b"\xff" * self.block_size
        self.erase_counts[b] += 1

    def _program(self, start, buf):
        data = self.data
        n = len(buf)
        blank = bytes(memoryview(data)[start : start + n]) == b"\xff" * n
        if not blank and self.strict:
            # Check the whole write first: a 1 over a 0 programs nothing.
            for i in range(n):
                v = buf[i]
                if data[start + i] & v != v:
                    raise FlashError(5, start + i)
        k = n
        if self._budget >= 0 and self._budget < n:
            k = self._budget
        if blank:
            data[start : start + k] = memoryview(buf)[:k]
        else:
            for i in range(k):
                data[start + i] &= buf[i]
        self.bytes_programmed += k
        if k < n:
            self._budget = -1
            raise PowerCut(start + k)
        if self._budget >= 0:
            self._budget -= n

    # -- file persistence (host only) ------------------------------------------

    def save(self, path):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(self.data)
        import os

        os.rename(tmp, path)

    @classmethod
    def load(cls, path, blocks, block_size=4096):
        try:
            with open(path, "rb") as f:
                image = f.read()
        except OSError:
            return cls(blocks, block_size)
        return cls(blocks, block_size, image)
