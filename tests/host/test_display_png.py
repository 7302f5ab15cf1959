"""The OLED double rendered to a PNG (Pillow): every Kazakh and Russian
letter of a screen the UI draws is on the picture pixel for pixel as the
project font has it (KZ-11); docs/display-128x64.png is this picture.

Run with REGEN_DOCS=1 to rewrite the docs picture.
"""

import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
for p in (os.path.join(ROOT, "tests", "core"), os.path.join(ROOT, "firmware"), ROOT):
    if p not in sys.path:
        sys.path.insert(0, p)

import hwkit  # noqa: E402
from chip_ssd1306 import SSD1306Chip  # noqa: E402

from drivers import font6x8 as F  # noqa: E402
from drivers import ssd1306 as S  # noqa: E402

SCALE = 4
KAZAKH = "ӘәҒғҚқҢңӨөҰұҮүҺһІі"
FRAME = ["Онлайн [0] wifi", "1.Ақ нан", "Жиыны:        250.00", "Төлеуге қалды:", "ӘәҒғҚқҢңӨөҰұҮүҺһІі",
         "Ёё Йй Щщ Ъъ Ыы Ээ Юю", "", "> 12"]


def _screen(kind, tmp_path):
    m = hwkit.fresh()
    chip = SSD1306Chip(kind)
    m.attach(0, 0x3C, chip)
    oled = S.Oled(m.I2C(0), F, 0x3C, kind)
    oled.show(FRAME)
    path = tmp_path / ("%s.png" % kind)
    return chip, chip.png(str(path), SCALE), path


def _font_pixel(ch, x, y):
    k = S.glyph_index(F, ch) * F.W
    return F.DATA[k + x] >> y & 1


def test_kz_11_every_kazakh_letter_on_the_png_as_the_font_draws_it(tmp_path):
    for kind in (S.SSD1306, S.SH1106):
        chip, im, path = _screen(kind, tmp_path)
        assert im.size == (128 * SCALE, 64 * SCALE) and path.stat().st_size > 0
        row = FRAME.index(KAZAKH)
        for col, ch in enumerate(KAZAKH):
            for y in range(8):
                for x in range(F.W):
                    px = im.getpixel(((col * F.W + x) * SCALE + 1, (row * 8 + y) * SCALE + 1))
                    assert (px > 0) == bool(_font_pixel(ch, x, y)), (kind, ch, x, y)


def test_docs_picture_is_the_current_screen(tmp_path):
    chip, im, path = _screen(S.SSD1306, tmp_path)
    doc = os.path.join(ROOT, "docs", "display-128x64.png")
    if os.environ.get("REGEN_DOCS"):
        im.save(doc, optimize=True)
    from PIL import Image, ImageChops

    with Image.open(doc) as want:
        assert ImageChops.difference(want.convert("L"), im).getbbox() is None


def test_the_font_module_is_what_the_tool_makes_of_dejavu():
    import pytest

    from tools import gen_display_font as G

    if not os.path.exists(G.FONT):
        pytest.skip("DejaVu Sans Mono not installed (fonts-dejavu-core)")
    chars, data = G.build(G.FONT, 9)
    assert data == F.DATA and chars[95 + 64:] == F.EXTRA
