# The NOR flash emulator backed by a file, written through: every erase and
# every program reaches the file before the call returns, so a killed
# simulator keeps each journal record it wrote (as the chip would). The
# image is read into the emulator in place (one copy in the heap).

from boards.sim.nor_flash import NorFlash


class FileFlash(NorFlash):
    def __init__(self, path, blocks, block_size=4096):
        NorFlash.__init__(self, blocks, block_size)  # an erased chip
        try:
            with open(path, "rb") as f:
                n = f.readinto(self.data)
            if n != self.size:
                raise ValueError("flash image size: " + path)
        except OSError:
            self.save(path)  # a new chip
        self.file = open(path, "r+b")

    def _erase(self, b):
        NorFlash._erase(self, b)
        self._write(b * self.block_size, self.block_size)

    def _program(self, start, buf):
        try:
            NorFlash._program(self, start, buf)
        finally:
            self._write(start, len(buf))  # also the part a power cut let through

    def _write(self, start, n):
        f = self.file
        f.seek(start)
        f.write(memoryview(self.data)[start:start + n])
        f.flush()

    def close(self):
        self.file.close()
