"""Emotion figures of a video from the FER2013 classifier (:mod:`emocast.evaluate.fer`).

The paper's judge (Emotion-FAN, 8 classes incl. contempt) is not available here; every figure names
:data:`emocast.evaluate.fer.JUDGE_NAME` as its source.
"""
from __future__ import annotations

import functools

import numpy as np

from ..emotion.labels import canonical
from ..errors import InputError
from .fer import FER_CLASSES, JUDGE_NAME, MEAD_TO_FER, EmotionJudge

@functools.cache
def get_judge() -> EmotionJudge:
    """The process-wide :class:`EmotionJudge` (weights load once)."""
    return EmotionJudge()


def intended_class(label: str | None) -> tuple[str | None, str | None]:
    """``(mead_name, fer_class)`` of an intended emotion label; ``fer_class`` is ``None`` for
    contempt (no FER2013 class). ``(None, None)`` when ``label`` is ``None``.

    Raises:
        InputError: the label is not a MEAD emotion or alias.
    """
    if label is None:
        return None, None
    mead = canonical(label)
    if mead is None:
        raise InputError("--emotion", f"'{label}' is not one of the MEAD emotions "
                         "(neutral, happy, sad, angry, fear, disgusted, surprised, contempt)")
    return mead, MEAD_TO_FER[mead]


def frame_probs(frames: np.ndarray, stride: int = 1, progress=None) -> np.ndarray:
    """Per-frame FER2013 probabilities of the largest face.

    Args:
        frames: ``uint8 (T, H, W, 3)`` RGB.
        stride: classify every ``stride``-th frame (others stay NaN).
        progress: optional callable ``progress(i)``.

    Returns:
        ``float32 (T, 7)`` in :data:`FER_CLASSES` order, NaN rows where no frame was classified or
        the Haar detector found no face.
    """
    judge = get_judge()
    out = np.full((len(frames), len(FER_CLASSES)), np.nan, np.float32)
    for i in range(0, len(frames), max(1, stride)):
        faces = judge.detect(frames[i], largest_only=True)
        if faces:
            out[i] = faces[0].probs
        if progress:
            progress(i)
    return out


NEUTRAL_MAX_APERTURE = 0.05
"""Neutral is judged on the frames whose dlib inner-lip aperture (:func:`emocast.evaluate.lipsync.mouth_aperture`)
is below this (dimensionless). This FER2013 judge reads an open speaking mouth as happy or surprise even
on real video: on the real talking-face fixture the top class is neutral on 62 % of frames below 0.05,
24 % at 0.05-0.10 and 1 % at 0.10-0.15 (``benchmarks/judge_speech_bias.py``), while lip sync needs open
vowels past 0.10. Every other emotion is judged on all frames."""


def judge_emotion(probs: np.ndarray, intended: str | None, closed_lips: np.ndarray | None = None) -> dict:
    """Summarise per-frame probabilities against the intended emotion.

    Args:
        probs: ``(T, 7)`` from :func:`frame_probs` (NaN rows = not judged).
        intended: intended MEAD emotion (label or alias) or ``None``.
        closed_lips: ``bool (T,)``, frames whose lips are nearly closed (:data:`NEUTRAL_MAX_APERTURE`);
            when given and the intended emotion is neutral, the summary (top class, accuracy,
            p(intended)) is taken over those frames only, or over all frames when there is none.

    Returns:
        dict: ``judge``, ``classes``, ``intended`` (MEAD), ``intended_fer_class``, ``judged``
        (False for contempt or no intended label), ``top_class`` (argmax of the mean probabilities),
        ``top_prob``, ``mean_probs`` (class -> mean), ``accuracy`` (share of classified frames whose
        top class is the intended one; ``None`` when not judged), ``intended_prob_mean``,
        ``intended_prob`` (per frame, ``None`` where not classified), ``frame_top`` (per frame),
        ``frames``, ``frames_with_face``, ``judged_on`` (``"all frames"`` or ``"closed-lip frames"``),
        ``frames_judged``, and ``note`` when something could not be judged.
    """
    mead, fer_cls = intended_class(intended)
    probs = np.asarray(probs, np.float32)
    face = np.isfinite(probs).all(axis=1)
    ok, judged_on = face, "all frames"
    if mead == "neutral" and closed_lips is not None:
        closed = face & np.asarray(closed_lips, bool)
        if closed.any():
            ok, judged_on = closed, "closed-lip frames"
    out: dict = {
        "judge": JUDGE_NAME, "classes": list(FER_CLASSES),
        "intended": mead, "intended_fer_class": fer_cls, "judged": False,
        "top_class": None, "top_prob": None, "mean_probs": None, "accuracy": None,
        "intended_prob_mean": None, "intended_prob": None,
        "frames": int(len(probs)), "frames_with_face": int(face.sum()),
        "judged_on": judged_on, "frames_judged": int(ok.sum()),
        "frame_top": [FER_CLASSES[int(np.argmax(p))] if k else None for p, k in zip(probs, face)],
    }
    if not ok.any():
        out["note"] = "the Haar face detector found no face in any frame"
        return out
    mean = probs[ok].mean(axis=0)
    out["mean_probs"] = {c: round(float(v), 4) for c, v in zip(FER_CLASSES, mean)}
    out["top_class"] = FER_CLASSES[int(np.argmax(mean))]
    out["top_prob"] = round(float(mean.max()), 4)
    if mead is None:
        out["note"] = "no intended emotion given: accuracy not judged"
    elif fer_cls is None:
        out["note"] = f"'{mead}' has no FER2013 class: not judged"
    else:
        j = FER_CLASSES.index(fer_cls)
        out["judged"] = True
        top = probs[ok].argmax(axis=1)
        out["accuracy"] = round(float((top == j).mean()), 4)
        out["intended_prob_mean"] = round(float(probs[ok, j].mean()), 4)
        out["intended_prob"] = [round(float(p[j]), 4) if k else None for p, k in zip(probs, ok)]
    return out
