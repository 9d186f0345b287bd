"""Tune one emotion's action-unit prototype: random search on the FER2013 judge over speaking video.

How the fear, sad and disgusted prototypes of :data:`emocast.emotion.aus.PROTOTYPES` were found
(session notes of issue 4). For each candidate prototype, every portrait is animated with the engine's
own motion (:func:`emocast.motion.compose` on the first 3 s of a speech clip, as ``emocast benchmark``
does) and scored on:

- **p**: the judge's mean probability of the intended class over 15 sampled frames, averaged over the
  portraits (the quantity that is maximised);
- **top**: share of portraits whose mean probabilities put the intended class first;
- **open / closed**: the dlib lip-sync judge's open-vowel and p/b/m shares
  (:func:`emocast.evaluate.lipsync.phone_scores`, on the frames of those phones): the objective is
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
        from emocast.evaluate.lipsync import phone_frames
        from emocast.speech import BILABIALS, OPEN_VOWELS, analyse

        self.emotion = emotion
        self.judge = get_judge()
        self.cls = FER_CLASSES.index(MEAD_TO_FER[emotion])
        self.track = build_track(parse_emotion(emotion, intensity=1.0, duration=N_FRAMES / FPS), N_FRAMES, FPS)
        self.cases = []
        for i, path in enumerate(portrait_paths):
            speech = analyse(load_audio(audio_paths[i % len(audio_paths)])[: int(16000 * N_FRAMES / FPS)])
            # the frames the lip-sync judge reads: those of every open-vowel and p/b/m phone
            judged = sorted({int(k) for ph in speech.phones if ph.label.upper().rstrip("012") in OPEN_VOWELS | BILABIALS
                             for k in phone_frames(float(ph.start), float(ph.end), FPS, N_FRAMES)})
            self.cases.append((CPURenderer(*load(path, 512)), speech, judged))

    def __call__(self, proto: dict[str, float]) -> dict:
        from emocast.emotion.aus import PROTOTYPES
        from emocast.evaluate import dlib_face
        from emocast.evaluate.lipsync import mouth_aperture, phone_scores
        from emocast.motion.composer import compose
        from emocast.speech import BILABIALS, OPEN_VOWELS

        saved = PROTOTYPES[self.emotion]
        PROTOTYPES[self.emotion] = proto
        try:
            p, top, opened, closed = [], [], [], []
            for renderer, speech, judged in self.cases:
                m = compose(self.track, speech, N_FRAMES, fps=FPS)
                frames = {i: renderer.render(m.aus[i], m.pose[i], float(m.upper_teeth[i]), float(m.lower_teeth[i]))
                          for i in sorted(set(SAMPLED) | set(judged))}
                probs = [f[0].probs for f in (self.judge.detect(frames[i], largest_only=True) for i in SAMPLED) if f]
                mean = np.mean(probs, 0)
                p.append(mean[self.cls])
                top.append(int(mean.argmax()) == self.cls)
                ap = np.full(N_FRAMES, np.nan, np.float32)
                if judged:
                    ap[judged] = mouth_aperture(dlib_face.track(np.stack([frames[i] for i in judged])).landmarks)
                lip = phone_scores(ap, speech.phones, FPS, BILABIALS, OPEN_VOWELS)
                if lip["open_vowel_open"] is not None:
                    opened.append((lip["open_vowel_open"], lip["n_open_vowel"]))
                if lip["bilabial_closed"] is not None:
                    closed.append((lip["bilabial_closed"], lip["n_bilabial"]))
        finally:
            PROTOTYPES[self.emotion] = saved

        def share(pairs):  # over all phones of all portraits
            return float(sum(v * n for v, n in pairs) / sum(n for _, n in pairs)) if pairs else 1.0

        return {"p": float(np.mean(p)), "top": float(np.mean(top)), "open": share(opened), "closed": share(closed)}

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
