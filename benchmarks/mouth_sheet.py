"""Zoomed mouth sheet: the portrait's own mouth next to the CPU engine's closed, half-open and wide-open
mouths, each crop enlarged (nearest neighbour, default 4x) so every drawn or resampled pixel shows.

One row per portrait: the portrait's mouth, then frames with the lips closed (AU25 = AU26 = 0, the
portrait's own opening undone), half open (AU25 1, AU26 0.35) and wide open (AU25 1, AU26 0.9), with
the teeth rows :func:`emocast.rig.teeth_rows` gives them and no head motion. For looking at, not scoring
(issue "Faces that look filmed": painted mouths, pasted lips, greyscale faces with coloured mouths).

    .venv/bin/python benchmarks/mouth_sheet.py PORTRAIT... [--grey PORTRAIT...] -o /tmp/mouths.png \
        [--zoom 4] [--size 512] [--emotion neutral]

``--grey P`` adds a greyscale copy of ``P`` (a black-and-white photo must stay black and white).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

OPENINGS = (("portrait", None), ("closed", (0.0, 0.0)), ("half open", (1.0, 0.35)), ("wide open", (1.0, 0.9)))
"""Columns: label and ``(AU25, AU26)`` of the rendered frame (``None``: the portrait itself)."""


def mouth_box(points: np.ndarray, interocular: float, shape) -> tuple[int, int, int, int]:
    """A box ``(x0, y0, x1, y1)`` around the lips, 0.25 interocular units of margin, clipped to ``shape``."""
    from emocast.face import topology as T

    lips = points[T.LIPS_OUTER_RING, :2]
    (x0, y0), (x1, y1) = lips.min(0) - 0.25 * interocular, lips.max(0) + 0.25 * interocular
    y1 += 0.25 * interocular  # room for a dropped jaw
    h, w = shape[:2]
    return max(0, int(x0)), max(0, int(y0)), min(w, int(x1) + 1), min(h, int(y1) + 1)


def row(path: str, grey: bool, size: int, zoom: int, emotion: str) -> list[np.ndarray]:
    import cv2

    from emocast.emotion.aus import PROTOTYPES
    from emocast.engines.fit import fit_portrait
    from emocast.face import analyse
    from emocast.media.image import load_image
    from emocast.render import CPURenderer
    from emocast.rig import AU_INDEX, AU_NAMES, teeth_rows

    if path.startswith("builtin:"):  # a skimage.data image, e.g. builtin:astronaut (an open smile)
        import skimage.data

        img = np.ascontiguousarray(getattr(skimage.data, path.split(":", 1)[1])())
    else:
        img = load_image(path)
    if grey:
        img = np.repeat(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[..., None], 3, -1)
    img, face = fit_portrait(img, analyse(img), size)
    r = CPURenderer(img, face)
    box = mouth_box(face.landmarks, face.interocular, img.shape)
    tiles = []
    for _, opening in OPENINGS:
        if opening is None:
            frame = img
        else:
            aus = np.zeros(len(AU_NAMES), np.float32)
            for k, v in PROTOTYPES[emotion].items():
                aus[AU_INDEX[k]] = v
            aus[AU_INDEX["AU25"]], aus[AU_INDEX["AU26"]] = opening
            up, lo = teeth_rows(aus)
            frame = r.render(aus, np.zeros(3), float(up), float(lo))
        x0, y0, x1, y1 = box
        crop = frame[y0:y1, x0:x1]
        tiles.append(cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_NEAREST))
    return tiles


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("portraits", nargs="*")
    ap.add_argument("--grey", nargs="*", default=[], help="portraits to add as greyscale copies")
    ap.add_argument("-o", "--output", required=True, help="PNG to write")
    ap.add_argument("--zoom", type=int, default=4)
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--emotion", default="neutral", help="MEAD emotion of the frames (its AU prototype)")
    a = ap.parse_args(argv)
    from PIL import Image, ImageDraw

    rows = [(os.path.basename(p), row(p, False, a.size, a.zoom, a.emotion)) for p in a.portraits]
    rows += [(os.path.basename(p) + " (grey)", row(p, True, a.size, a.zoom, a.emotion)) for p in a.grey]
    if not rows:
        ap.error("no portraits")
    tw = max(t.shape[1] for _, r in rows for t in r)
    th = max(t.shape[0] for _, r in rows for t in r)
    label_h = 16
    sheet = Image.new("RGB", (tw * len(OPENINGS), (th + label_h) * len(rows)), "white")
    d = ImageDraw.Draw(sheet)
    for i, (name, tiles) in enumerate(rows):
        y = i * (th + label_h)
        for j, t in enumerate(tiles):
            sheet.paste(Image.fromarray(t), (j * tw, y + label_h))
            d.text((j * tw + 3, y + 2), f"{name}: {OPENINGS[j][0]}" if j == 0 else OPENINGS[j][0], fill="black")
    sheet.save(a.output)
    print(a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
