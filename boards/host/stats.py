# The day's figures of the app on the PC board (boards/host/main.py --stats).


class Stats:
    # the day's figures for a script (tools/demo.py): the live heap after a
    # collection at every frame shown (its peak), and what the journal and
    # the fiscal memory programmed and erased, saved at every frame (Ctrl-C
    # may land inside a collection and leave the heap locked: nothing can be
    # saved on the way out)
    def __init__(self, board, path):
        import gc

        self.board = board
        self.path = path
        self.peak = 0
        self.frames = 0
        show = board.display.show

        def watched(lines):
            show(lines)
            gc.collect()
            self.peak = max(self.peak, gc.mem_alloc())
            self.frames += 1
            self.save()

        board.display.show = watched

    def save(self):
        import json

        log, fm = self.board.flash
        with open(self.path, "w") as f:
            json.dump({"heap_peak": self.peak, "frames": self.frames, "flash_images": log.size + fm.size,
                       "log_programmed": log.bytes_programmed, "log_erased": sum(log.erase_counts),
                       "fm_programmed": fm.bytes_programmed, "fm_erased": sum(fm.erase_counts)}, f)
