"""Tune one emotion's action-unit prototype: random search on the FER2013 judge over speaking video.

How the fear, sad and disgusted prototypes of :data:`emocast.emotion.aus.PROTOTYPES` were found
(session notes of issue 4). For each candidate prototype, every portrait is animated with the engine's
own motion (:func:`emocast.motion.compose` on the first 3 s of a speech clip, as ``emocast benchmark``
does) and scored on:

- **p**: the judge's mean probability of the intended class over 15 sampled frames, averaged over the
  portraits (the quantity that is maximised);
- **top**: share of portraits whose mean probabilities put the intended class first;
- **open / closed**: dlib lip-sync checks on the clip's open-vowel and p/b/m phones (lips open above
  0.10, closed below 0.05, as :mod:`emocast.evaluate.lipsync`): the objective is
  ``p - lam * ((1 - open) + (1 - closed))``, so no prototype wins by keeping the mouth shut.

Each step perturbs one to three action units of the best prototype so far (Gaussian, sigma 0.3) within
``[0, --max]`` (the composer clips AUs at 1.3) and keeps it when the objective rises.

**This tunes on the judge and on the benchmark's own portraits**: a prototype found here must still be
looked at (``expression_sheet.py``) and kept only if a person reads the emotion, and accuracy measured
with it on the same portraits is optimistic for unseen faces.

    .venv/bin/python benchmarks/tune_prototype.py fear --iters 40 \\
        --portraits ../shared/fixtures/portraits builtin:astronaut --audio ../shared/fixtures/speech
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from expression_sheet import load, portraits  # noqa: E402

FPS, N_FRAMES = 25.0, 75
SAMPLED = range(4, N_FRAMES, 5)
AUDIO_EXT = (".wav", ".mp3", ".flac", ".m4a", ".ogg")


class Scorer:
    """Judge a prototype of ``emotion`` on every portrait, each speaking its own clip."""

    def __init__(self, emotion: str, portrait_paths: list[str], audio_paths: list[str]):
        from emocast.emotion import build_track, parse_emotion
        from emocast.evaluate.emotion import get_judge
        from emocast.evaluate.fer import FER_CLASSES, MEAD_TO_FER
        from emocast.media.audio import load_audio
        from emocast.render import CPURenderer
        from emocast.speech import BILABIALS, OPEN_VOWELS, analyse

        self.emotion = emotion
        self.judge = get_judge()
        self.cls = FER_CLASSES.index(MEAD_TO_FER[emotion])
        self.track = build_track(parse_emotion(emotion, intensity=1.0, duration=N_FRAMES / FPS), N_FRAMES, FPS)
        self.cases = []
        for i, path in enumerate(portrait_paths):
            wav = load_audio(audio_paths[i % len(audio_paths)])[: int(16000 * N_FRAMES / FPS)]
            speech = analyse(wav)
            vowels, bilabials = [], []
            for ph in speech.phones:
                if ph.end * FPS >= N_FRAMES:
                    continue
                lab = ph.label.upper().rstrip("012")
                frames = list(range(int(np.ceil(ph.start * FPS - 1e-6)), int(np.ceil(ph.end * FPS - 1e-6))))
                frames = frames or [int(round((ph.start + ph.end) / 2 * FPS))]
                (vowels if lab in OPEN_VOWELS else bilabials if lab in BILABIALS else []).append(frames)
            self.cases.append((CPURenderer(*load(path, 512)), speech, vowels, bilabials))

    def __call__(self, proto: dict[str, float]) -> dict:
        from emocast.emotion import aus as A
        from emocast.evaluate import dlib_face
        from emocast.evaluate.lipsync import CLOSED_BELOW, OPEN_ABOVE, mouth_aperture
        from emocast.motion.composer import compose

        saved = dict(A.PROTOTYPES[self.emotion]), A._P
        A.PROTOTYPES[self.emotion] = proto
        A._P = np.array([[A.PROTOTYPES[e].get(a, 0.0) for a in A.AU_NAMES] for e in A.MEAD_EMOTIONS], np.float32)
        try:
            p, top, opened, closed = [], [], [], []
            for renderer, speech, vowels, bilabials in self.cases:
                m = compose(self.track, speech, N_FRAMES, fps=FPS)

                def frame(i):
                    return renderer.render(m.aus[i], m.pose[i], float(m.upper_teeth[i]), float(m.lower_teeth[i]))

                probs = [f[0].probs for f in (self.judge.detect(frame(i), largest_only=True) for i in SAMPLED) if f]
                mean = np.mean(probs, 0)
                p.append(mean[self.cls])
                top.append(int(mean.argmax()) == self.cls)
                ap = {i: mouth_aperture(dlib_face.track(frame(i)[None]).landmarks)[0]
                      for i in sorted({i for g in vowels + bilabials for i in g})}
                opened += [np.nanmax([ap[i] for i in g]) > OPEN_ABOVE for g in vowels]
                closed += [np.nanmin([ap[i] for i in g]) < CLOSED_BELOW for g in bilabials]
        finally:
            A.PROTOTYPES[self.emotion], A._P = saved
        return {"p": float(np.mean(p)), "top": float(np.mean(top)),
                "open": float(np.mean(opened)) if opened else 1.0, "closed": float(np.mean(closed)) if closed else 1.0}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("emotion", help="MEAD emotion whose prototype is tuned")
    ap.add_argument("--portraits", nargs="+", required=True, help="portrait files, folders, or builtin:astronaut")
    ap.add_argument("--audio", nargs="+", required=True, help="speech clips or folders (assigned round robin)")
    ap.add_argument("--start", help="JSON prototype to start from (default: the current one)")
    ap.add_argument("--iters", type=int, default=40)
    ap.add_argument("--max", type=float, default=1.3, help="largest activation of one AU")
    ap.add_argument("--lam", type=float, default=0.3, help="weight of the lip-sync checks")
    ap.add_argument("--units", default="AU1,AU2,AU4,AU5,AU6,AU7,AU9,AU10,AU15,AU16,AU17,AU20,AU23,AU24,AU25,AU26,AU43",
                    help="comma-separated AUs the search may change")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    import torch

    from emocast.emotion.aus import PROTOTYPES

    torch.set_num_threads(1)
    audio = []
    for d in a.audio:
        audio += sorted(os.path.join(d, f) for f in os.listdir(d) if f.lower().endswith(AUDIO_EXT)) if os.path.isdir(d) else [d]
    score = Scorer(a.emotion, portraits(a.portraits), audio)
    units = a.units.split(",")
    rng = np.random.default_rng(a.seed)

    def objective(s):
        return s["p"] - a.lam * ((1 - s["open"]) + (1 - s["closed"]))

    best = json.loads(a.start) if a.start else dict(PROTOTYPES[a.emotion])
    best_s = score(best)
    print("start", {k: round(v, 3) for k, v in best_s.items()}, json.dumps(best), flush=True)
    for it in range(a.iters):
        cand = dict(best)
        for k in rng.choice(units, size=rng.integers(1, 4), replace=False):
            cand[k] = float(np.clip(round(cand.get(k, 0.0) + rng.normal(0, 0.3), 2), 0, a.max))
            if cand[k] == 0:
                cand.pop(k)
        s = score(cand)
        if objective(s) > objective(best_s):
            best, best_s = cand, s
            print(it, {k: round(v, 3) for k, v in s.items()}, json.dumps(best), flush=True)
    print("best", {k: round(v, 3) for k, v in best_s.items()}, json.dumps(best))
    return 0


if __name__ == "__main__":
    sys.exit(main())
