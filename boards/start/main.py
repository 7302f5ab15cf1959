# Starts the register: the board package for this chip builds the board
# (boards.target); firmware/power_on.py finishes an update switch a power
# cut interrupted, runs the power-on self-test, settles an update on trial
# (a failed one rolls back and resets) and runs the app. Ctrl-C on the USB
# REPL stops it for service.
import machine
import power_on
from boards import target

power_on.start(target.make, machine.reset)
