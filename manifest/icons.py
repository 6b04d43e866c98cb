"""The app's two icons, drawn when the package is built: a signpost with two arrows.

Teams wants a 192x192 colour icon and a 32x32 outline icon that is white on transparent. Both
are drawn here from the same shape, so no binary file lives in the repository.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

COLOR_SIZE = 192
OUTLINE_SIZE = 32
# The City of Amsterdam's red; also the manifest's accent colour.
BRAND_RED = (236, 0, 0)
WHITE = (255, 255, 255)

# The signpost on a 32x32 grid: a pole and two arrow-shaped boards, one pointing each way.
_POLE = (14, 5, 17, 29)
_BOARD_RIGHT = [(5, 6), (22, 6), (27, 10), (22, 14), (5, 14)]
_BOARD_LEFT = [(10, 16), (27, 16), (27, 24), (10, 24), (5, 20)]
_FOOT = (10, 28, 21, 30)


def _draw_signpost(size: int, *, margin: float, fill: tuple[int, int, int]) -> Image.Image:
    """The signpost scaled onto a transparent square of `size` pixels."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    scale = size * (1 - 2 * margin) / 32
    offset = size * margin

    def at(x: float, y: float) -> tuple[float, float]:
        return offset + x * scale, offset + y * scale

    colour = (*fill, 255)
    draw.rectangle([*at(_POLE[0], _POLE[1]), *at(_POLE[2], _POLE[3])], fill=colour)
    draw.rectangle([*at(_FOOT[0], _FOOT[1]), *at(_FOOT[2], _FOOT[3])], fill=colour)
    draw.polygon([at(x, y) for x, y in _BOARD_RIGHT], fill=colour)
    draw.polygon([at(x, y) for x, y in _BOARD_LEFT], fill=colour)
    return image


def color_icon() -> Image.Image:
    """192x192: a white signpost on the city's red, no transparency."""
    background = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), (*BRAND_RED, 255))
    signpost = _draw_signpost(COLOR_SIZE, margin=0.15, fill=WHITE)
    return Image.alpha_composite(background, signpost)


def outline_icon() -> Image.Image:
    """32x32: the signpost in white on transparent, as Teams' outline icon must be."""
    # No margin: Teams draws the outline icon small, and the shape keeps a transparent border.
    return _draw_signpost(OUTLINE_SIZE, margin=0.0, fill=WHITE)


def png(image: Image.Image) -> bytes:
    """The image as PNG bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
