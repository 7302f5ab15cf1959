# Login (KZ-1): the user's code, then the password; MENU switches the
# screen language (Kazakh, Russian) for this user's session. A wrong
# password is said (attempts left, kkm.auth) and asked again; ESC goes
# back to the code.

from kkm import auth as A
from ui import keys as K
from ui import texts as U
from ui.screen import Screen


class Login(Screen):
    entry = True
    secret = True

    def __init__(self):
        self.code = None

    def key(self, ui, k):
        if k == K.MENU:
            ui.lang = "ru" if ui.lang == "kk" else "kk"
        elif k == K.ESC:
            self.code = None
            ui.entry.clear()
        elif k == K.ENT:
            if self.code is None:
                self.code = ui.entry.number()
                return
            mode = ui.login(self.code, ui.entry.take())
            from ui.menus import Menu, service_items
            from ui.sale import Sale

            ui.replace(Menu(service_items()) if mode == A.MODE_SERVICE else Sale())

    def body(self, ui):
        if self.code is None:
            return [ui.t(U.U_USER), "> " + ui.entry.s, ui.t(U.U_LANG_KEY)]
        return [ui.t(U.U_PASSWORD), "> " + "*" * len(ui.entry.s), ui.t(U.U_LANG_KEY)]
