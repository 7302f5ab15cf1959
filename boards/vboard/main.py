# main.py of the virtual board: the register app, its power-on self-test
# settling an update on trial (firmware/update.py)
import machine
import update
from boards import vboard

update.start(vboard.make, machine.reset)
