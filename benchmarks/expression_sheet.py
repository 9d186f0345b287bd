"""Contact sheet of the CPU engine's static expressions: portraits (rows) x MEAD emotions (columns).

Each tile is the face crop of one frame rendered with the emotion's action-unit prototype at the given
intensity and a mid-speech mouth (lips parted, jaw a little open), no head motion. It is for tuning by
eye; ``--judge`` adds the FER2013 judge's top class under each tile as a check (the judge never feeds
back into generation).

    .venv/bin/python benchmarks/expression_sheet.py ../shared/fixtures/portraits builtin:astronaut \
        -o /tmp/expressions.png [--intensity 1.0] [--judge] [--size 512] [--tile 192]
"""
from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

EMOTIONS = ("neutral", "happy", "sad", "angry", "fear", "disgusted", "surprised", "contempt")


def portraits(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        if os.path.isdir(p):
            out += sorted(os.path.join(p, f) for f in os.listdir(p) if f.lower().endswith((".png", ".jpg", ".jpeg")))
        else:
            out.append(p)
    return out


def load(path: str, size: int):
    from emocast.engines.fit import fit_portrait
    from emocast.face import analyse
    from emocast.media.image import load_image

    if path.startswith("builtin:"):
        import skimage.data

        img = getattr(skimage.data, path.split(":", 1)[1])()
    else:
        img = load_image(path)
    return fit_portrait(img, analyse(img), size)


def render_expression(renderer, emotion: str, intensity: float, speech: float = 0.35) -> np.ndarray:
    """One frame of ``emotion`` at ``intensity`` with a mid-speech mouth."""
    from emocast.emotion.aus import PROTOTYPES
    from emocast.rig import AU_INDEX, AU_NAMES

    aus = np.zeros(len(AU_NAMES), np.float32)
    for k, v in PROTOTYPES[emotion].items():
        aus[AU_INDEX[k]] = v * intensity
    return speaking_frame(renderer, aus, speech)


def speaking_frame(renderer, aus: np.ndarray, speech: float) -> np.ndarray:
    """One frame of expression ``aus`` ``(n_AU,)`` with the lips parted by ``speech`` (AU25, and AU26 at
    0.4 of it), teeth rows as :func:`emocast.rig.teeth_rows` gives them, no head motion."""
    from emocast.rig import AU_INDEX, teeth_rows

    aus = aus.copy()
    aus[AU_INDEX["AU25"]] += speech
    aus[AU_INDEX["AU26"]] += 0.4 * speech
    upper, lower = teeth_rows(aus)
    return renderer.render(aus, np.zeros(3), upper_teeth=upper, lower_teeth=lower)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("portraits", nargs="+", help="portrait files, folders, or builtin:astronaut")
    ap.add_argument("-o", "--output", default="expressions.png")
    ap.add_argument("--intensity", type=float, default=1.0)
    ap.add_argument("--speech", type=float, default=0.35, help="mid-speech lip part (0 = closed mouth)")
    ap.add_argument("--emotions", nargs="+", default=list(EMOTIONS))
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--tile", type=int, default=192)
    ap.add_argument("--judge", action="store_true", help="print the FER2013 judge's top class per tile")
    a = ap.parse_args(argv)
    from emocast.render import CPURenderer

    judge = None
    if a.judge:
        from emocast.evaluate.emotion import get_judge

        judge = get_judge()
    rows, hits, total = [], 0, 0
    for path in portraits(a.portraits):
        img, face = load(path, a.size)
        r = CPURenderer(img, face)
        x0, y0, x1, y1 = face.box
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, 0.75 * max(x1 - x0, y1 - y0)
        box = [int(max(cx - half, 0)), int(max(cy - half, 0)), int(min(cx + half, img.shape[1])), int(min(cy + half, img.shape[0]))]
        tiles = [cv2.resize(img[box[1]:box[3], box[0]:box[2]], (a.tile, a.tile), interpolation=cv2.INTER_AREA)]
        names = ["portrait"]
        for e in a.emotions:
            fr = render_expression(r, e, a.intensity, a.speech)
            tile = cv2.resize(fr[box[1]:box[3], box[0]:box[2]], (a.tile, a.tile), interpolation=cv2.INTER_AREA)
            label = e
            if judge is not None:
                faces = judge.detect(fr, largest_only=True)
                top = faces[0].top if faces else "-"
                label = f"{e[:5]}>{top[:5]}"
                if e not in ("contempt",):
                    from emocast.evaluate.fer import MEAD_TO_FER

                    total += 1
                    hits += int(top == MEAD_TO_FER[e])
            tiles.append(tile)
            names.append(label)
        for t, n in zip(tiles, names):
            cv2.rectangle(t, (0, a.tile - 16), (a.tile, a.tile), (0, 0, 0), -1)
            cv2.putText(t, n, (3, a.tile - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA)
        rows.append(np.concatenate(tiles, axis=1))
        print(os.path.basename(path), " ".join(names[1:]), flush=True)
    sheet = np.concatenate(rows, axis=0)
    cv2.imwrite(a.output, cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    if judge is not None and total:
        print(f"judge agrees on {hits}/{total} = {hits / total:.2f}")
    print(a.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
