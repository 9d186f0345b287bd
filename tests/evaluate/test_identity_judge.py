"""Identity judge: dlib 128-d descriptor distances."""
from __future__ import annotations

import numpy as np
import pytest

from emocast.errors import InputError
from emocast.evaluate import identity as I
from emocast.media import load_image


def test_astronaut_matches_a_resized_shifted_copy_of_herself(astronaut):
    import cv2

    ref = I.portrait_descriptor(astronaut)
    assert ref.shape == (128,) and ref.dtype == np.float32
    moved = np.roll(cv2.resize(astronaut, (400, 400)), 30, axis=1)
    assert I.distance(ref, I.portrait_descriptor(moved)) < 0.25


def test_no_face_in_portrait_is_an_input_error():
    with pytest.raises(InputError, match="no face"):
        I.portrait_descriptor(np.full((300, 300, 3), 90, np.uint8), "blank.png")


def test_same_person_close_different_person_far(fx, astronaut):
    happy = I.portrait_descriptor(load_image(fx("portraits/SadTalker_happy.png")))
    sad = I.portrait_descriptor(load_image(fx("portraits/SadTalker_sad.png")))
    others = [I.portrait_descriptor(load_image(fx(f"portraits/{n}")))
              for n in ("AniPortrait_Aragaki.png", "EDTalk_RD_Radio51_000.png", "hallo_7.jpg")]
    others.append(I.portrait_descriptor(astronaut))
    same = I.distance(happy, sad)
    diff = [I.distance(happy, o) for o in others] + [I.distance(sad, o) for o in others]
    assert same < I.SAME_PERSON_BELOW
    assert min(diff) > I.SAME_PERSON_BELOW
    assert min(diff) - same > 0.2  # a clear margin, not a coin toss


def test_video_frames_against_portrait(katie, fx):
    frames, fps, audio, track = katie
    r = I.judge_identity(frames[0], frames, track=track, n_samples=8)
    assert r["same_person"] and r["frames_with_face"] == 8
    assert r["max_distance"] >= r["mean_distance"] > 0
    other = I.judge_identity(load_image(fx("portraits/SadTalker_sad.png")), frames, track=track, n_samples=8)
    assert not other["same_person"] and other["mean_distance"] > r["max_distance"]
