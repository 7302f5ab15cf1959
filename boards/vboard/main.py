# main.py of the virtual board: the register app, its power-on self-test
# settling an update on trial (firmware/power_on.py)
import machine
import power_on
from boards import vboard

power_on.start(vboard.make, machine.reset)
