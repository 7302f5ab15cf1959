# Host-side entry points. Every target sets up its own virtual environment.
VENV    ?= .venv
BIN     := $(abspath $(VENV))/bin
PY      := $(BIN)/python
# The core suite keeps every test module loaded in one MicroPython process;
# the device's own heap budget is guarded by tests/host/test_memory_budget.py.
MPY_HEAP := -X heapsize=8M
export PATH := $(BIN):$(PATH)

.PHONY: setup test check-device test-mpy test-host bench bench-mem32 ofd sim fuzz fuzz-journal mpy deploy test-board vboard clean receipts
.PHONY: firmware journal-backup flash chaos demo
.PHONY: fleet

$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

setup: $(VENV)/.installed
	@tools/setup_system.sh

# All tests: device compile + subset lint, core tests under MicroPython,
# then every test (core and host) under pytest. Fails when any part fails.
test: setup
	@status=0; \
	$(PY) tools/check_device.py || status=1; \
	micropython $(MPY_HEAP) tests/run_core.py || status=1; \
	$(PY) -m pytest -n 2 -q tests; rc=$$?; [ $$rc -eq 5 ] && rc=0; [ $$rc -eq 0 ] || status=1; \
	exit $$status

check-device: setup
	$(PY) tools/check_device.py

test-mpy: setup
	micropython $(MPY_HEAP) tests/run_core.py

test-host: setup
	$(PY) -m pytest -q tests

# Benchmarks: figures go to docs/performance.md by hand, with the command.
bench: setup
	@for b in tools/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# Heap figures on a 32-bit unix MicroPython (objects sized as on the ESP32) with the firmware
# frozen into it (tools/manifest_unix.py) and from .mpy: built from MicroPython's source in MPY_DIR
# (release v1.28.0 with its micropython-lib submodule), into build/mpy32.
MPY_DIR ?= build/micropython
MPY32   := build/mpy32
bench-mem32: setup
	@test -f $(MPY_DIR)/ports/unix/Makefile || { echo "bench-mem32 needs MicroPython's source in MPY_DIR (now $(MPY_DIR)):"; \
	  echo "  git clone --branch v1.28.0 https://github.com/micropython/micropython $(MPY_DIR)"; exit 2; }
	@test -f $(MPY_DIR)/lib/micropython-lib/README.md || { echo "bench-mem32 needs the micropython-lib submodule of $(MPY_DIR):"; \
	  echo "  git -C $(MPY_DIR) submodule update --init lib/micropython-lib"; exit 2; }
	@echo 'int main(void) { return 0; }' | $${CC:-cc} -m32 -x c - -o /dev/null 2>/dev/null || { \
	  echo "bench-mem32 needs a 32-bit C toolchain: apt-get install gcc-multilib"; exit 2; }
	$(MAKE) -C $(MPY_DIR)/mpy-cross
	$(MAKE) -C $(MPY_DIR)/ports/unix MICROPY_FORCE_32BIT=1 MICROPY_PY_FFI=0 MICROPY_PY_BTREE=0 MICROPY_PY_SSL=0 \
	  BUILD=$(abspath $(MPY32)) FROZEN_MANIFEST=$(abspath tools/manifest_unix.py)
	$(PY) tools/bench_memory.py --micropython $(MPY32)/micropython --variants frozen,mpy

# Simulated OFD: protocol on 7777, check page and admin API on 8080 (OFD_ARGS for more options).
ofd: setup
	$(PY) -m tools.ofdsim --db var/ofd.sqlite --port 7777 --http 8080 $(OFD_ARGS)

# The register app on the PC board under the MicroPython unix port, against the OFD simulator
# (state in var/sim; SIM_ARGS e.g. --cpython, --display 128x64, --ofd 127.0.0.1:7777).
sim: setup
	$(PY) tools/sim.py $(SIM_ARGS)

# Protocol codec fuzz campaign: 100,000 inputs on CPython, 10,000 on MicroPython.
fuzz: setup
	$(PY) tools/fuzz_ofd.py 100000
	micropython tools/fuzz_ofd.py 10000

# Journal power-cut campaign: a cut at every byte offset of four more 310-operation scripts;
# then the register on a log it fills online and offline (docs/journal.md, "Power-cut campaign"):
# a cut at every byte of its last sales, the Z and the replay; every 11th byte with a second cut
# at every 151st byte the next boot writes; under MicroPython every 29th and 211th byte.
JOURNAL_PATH := import sys; sys.path[:0] = ['tests/core', 'firmware', '.']
fuzz-journal: setup
	$(PY) -u -c "$(JOURNAL_PATH); from test_journal_powercut import sweep; [print('seed', s, 'cut points', sweep(310, 1, s, 50)[0]) for s in (11, 12, 13, 14)]"
	$(PY) -u -c "$(JOURNAL_PATH); from test_journal_powercut import report; report((3,), 1, 0); report((3,), 11, 151)"
	micropython $(MPY_HEAP) -c "$(JOURNAL_PATH); from test_journal_powercut import report; report((5,), 29, 211)"

# The receipt pictures of docs/receipts: the register printing through the ESC/POS driver on the
# interpreter (docs/printer.md).
receipts: setup
	$(PY) tools/receipts.py

# Chaos run: three simulated days of sales over Wi-Fi and GSM (the modem simulator) against the
# OFD simulator with outages, lost answers, restarts and power cuts, then 73 hours offline
# (tools/chaos.py; docs/performance.md). A short slice runs in make test.
chaos: setup
	$(PY) tools/chaos.py --seed 1 2 --hours 72

# A scripted day at the register: the app under the MicroPython unix port through its keys and
# scanner, Wi-Fi and GSM, 200 sales, a return, money in and out, a Wi-Fi outage, an OFD outage and
# the replay, X and Z; the summary and the check that the OFD holds exactly the journal
# (tools/demo.py; state in var/demo; docs/performance.md). A short slice runs in make test.
demo: setup
	$(PY) tools/demo.py --sales 200

# The service centre's fleet (docs/fleet.md): the MQTT broker (mosquitto), the fleet dashboard on
# http://127.0.0.1:8090/, the OFD simulator and three host-board registers publishing their
# telemetry; a prompt takes a register's paper out (state in var/fleet; FLEET_ARGS for more options).
fleet: setup
	$(PY) -m tools.fleetwatch.run $(FLEET_ARGS)

# Device build: each board's tree of .mpy files (ESP32, ESP32-S3) in build/mpy with its hash
# manifest, sizes reported; deploy copies one to a board, verifies it there, resets, waits for
# the firmware's start (BOARD: a package under boards/, default esp32s3; FROZEN=1: the image
# carries the code, only the manifest naming its digest is deployed).
PORT_NEEDED = @test -n "$(PORT)" || { echo "PORT is required, e.g. make $@ PORT=/dev/ttyUSB0"; exit 2; }

mpy: setup
	$(PY) tools/deploy.py mpy

deploy: setup
	$(PORT_NEEDED)
	$(PY) tools/deploy.py deploy --port $(PORT) $(if $(BOARD),--board $(BOARD)) $(if $(FROZEN),--frozen) $(if $(UPDATE_KEY),--update-key $(UPDATE_KEY)) $(if $(FLEET),--fleet $(FLEET))

# The core tests on a board through mpremote, each reported by name (TESTS: name filters).
test-board: setup
	$(PORT_NEEDED)
	$(PY) tools/board_tests.py --port $(PORT) $(TESTS)

# A virtual ESP32 for mpremote and make deploy: MicroPython's unix port on a pseudo-terminal
# (it prints its port; state in var/vboard).
vboard: setup
	$(PY) tools/vboard.py var/vboard

# Service centre (README): the MicroPython image with the register frozen in (MPY_DIR: a
# MicroPython checkout, IDF_PATH: ESP-IDF 5.x), the fiscal journal's backup, flashing.
# BOARD=esp32s3 (default) or esp32 [VARIANT=FLASH_8MiB]; PORT, KEY, IMAGE, ERASE=1, BACKUPS (var/backups);
# VIA=mpremote reads the journal through the running MicroPython instead of esptool.
BOARD ?= esp32s3
SERVICE = $(PY) tools/service.py
firmware: $(VENV)/.installed
	$(SERVICE) firmware --board $(BOARD) $(if $(VARIANT),--variant $(VARIANT))

journal-backup: $(VENV)/.installed
	$(SERVICE) backup --board $(BOARD) $(if $(PORT),--port $(PORT)) $(if $(KEY),--key $(KEY)) \
		$(if $(BACKUPS),--backups $(BACKUPS)) $(if $(VIA),--via $(VIA))

flash: $(VENV)/.installed
	$(SERVICE) flash --board $(BOARD) $(if $(VARIANT),--variant $(VARIANT)) $(if $(PORT),--port $(PORT)) \
		$(if $(IMAGE),--image $(IMAGE)) $(if $(filter 1,$(ERASE)),--erase) $(if $(BACKUPS),--backups $(BACKUPS))

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build
