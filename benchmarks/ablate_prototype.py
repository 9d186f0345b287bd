"""Ablate one emotion's action-unit prototype on still frames: what each AU gives the FER2013 judge and
what it costs in likeness.

For the prototype as it stands and for each variant, every portrait is rendered at rest and at two
speech openings (``AU25`` 0.3 and 0.6, with ``AU26`` at 0.4 of that), after the renderer's displacement
budget (:meth:`emocast.rig.FaceRig.expression_gain`), as :func:`emocast.motion.compose` would.
Printed per variant:

- **id**: mean dlib identity distance to the portrait (:mod:`emocast.evaluate.identity`, < 0.6 = same
  person; ``emocast benchmark`` asks for no video above 0.5), over all portraits and per portrait;
- **p**: the judge's probability of the intended class, per portrait and on average.

Variants are either each AU of the prototype scaled by ``--scale`` in turn (the default; 0 drops it), or
the JSON given with ``--variants``: ``[["name", {"AU10": 0, "AU4": 0.8}], ...]``, each applied on top of
the current prototype. This is how sad's AU10 and disgust's AU17 were taken out of
:data:`emocast.emotion.aus.PROTOTYPES` (issue 4, session 11). Still frames are a quick proxy: check a
change with ``emocast benchmark`` on speaking video, and look at it (``expression_sheet.py``).

    .venv/bin/python benchmarks/ablate_prototype.py disgusted \\
        --portraits ../shared/fixtures/portraits builtin:astronaut
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expression_sheet import load, portraits, speaking_frame  # noqa: E402

SPEECH = (0.0, 0.3, 0.6)


def score(renderers, proto: dict, cls: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean identity distance and p(intended) per portrait ``(n,)`` each, over the :data:`SPEECH` openings."""
    from emocast.evaluate.emotion import get_judge
    from emocast.evaluate.identity import distance, portrait_descriptor
    from emocast.rig import AU_INDEX, AU_NAMES

    judge = get_judge()
    ids, ps = [], []
    for r, ref in renderers:
        aus = np.zeros(len(AU_NAMES), np.float32)
        for k, v in proto.items():
            aus[AU_INDEX[k]] = v
        aus *= r.rig.expression_gain(aus)
        d, p = [], []
        for sp in SPEECH:
            frame = speaking_frame(r, aus, sp)
            d.append(distance(ref, portrait_descriptor(frame)))
            faces = judge.detect(frame, largest_only=True)
            p.append(faces[0].probs[cls] if faces else 0.0)
        ids.append(np.mean(d))
        ps.append(np.mean(p))
    return np.array(ids), np.array(ps)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("emotion", help="MEAD emotion whose prototype is ablated")
    ap.add_argument("--portraits", nargs="+", required=True, help="portrait files, folders, or builtin:astronaut")
    ap.add_argument("--scale", type=float, default=0.0, help="factor on one AU at a time (0 drops it)")
    ap.add_argument("--variants", help='JSON list of ["name", {AU: value}] applied on top of the prototype')
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args(argv)

    from emocast.emotion.aus import PROTOTYPES
    from emocast.evaluate.fer import FER_CLASSES, MEAD_TO_FER
    from emocast.evaluate.identity import portrait_descriptor
    from emocast.render import CPURenderer

    if not MEAD_TO_FER.get(args.emotion):
        ap.error(f"the FER2013 judge has no class for {args.emotion!r}")
    cls = FER_CLASSES.index(MEAD_TO_FER[args.emotion])
    names = portraits(args.portraits)
    renderers = []
    for path in names:
        img, face = load(path, args.size)
        renderers.append((CPURenderer(img, face), portrait_descriptor(img)))
    base = dict(PROTOTYPES[args.emotion])
    if args.variants:
        variants = [(n, {**base, **d}) for n, d in json.loads(args.variants)]
    else:
        variants = [(f"{k}*{args.scale:g}", {**base, k: v * args.scale}) for k, v in base.items()]
    short = [os.path.basename(n).split(".")[0].split(":")[-1][:9] for n in names]
    print(f"{'variant':14s} {'id':>5s} {'p':>5s}  " + " ".join(f"{s:>15s}" for s in short))
    for name, proto in [("current", base)] + variants:
        ids, ps = score(renderers, proto, cls)
        cells = " ".join(f"{d:.3f} / {p:.2f}".rjust(15) for d, p in zip(ids, ps))
        print(f"{name[:14]:14s} {ids.mean():5.3f} {ps.mean():5.2f}  {cells}", flush=True)
    print("\ncells: identity distance / p(intended), each the mean over rest and two speech openings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
