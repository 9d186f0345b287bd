"""Speech stage: TTS phoneme timings, forced alignment, phone recognition, loudness, VAD."""
import numpy as np
import pytest

from emocast.media import load_audio
from emocast.media.audio import resample
from emocast.speech import analyse
from emocast.speech.align import align
from emocast.speech.tts import synthesize
from tests.conftest import SENTENCE


def test_tts_phones_cover_audio():
    r = synthesize(SENTENCE)
    assert r.sr == 22050 and len(r.audio) / r.sr > 3
    labels = [p.label for p in r.phones]
    assert labels.count("B") + labels.count("M") + labels.count("P") >= 8
    assert r.phones[-1].end == pytest.approx(len(r.audio) / r.sr, abs=0.02)
    assert all(a.end <= b.start + 1e-6 for a, b in zip(r.phones, r.phones[1:]))


def test_alignment_matches_tts_timings():
    r = synthesize(SENTENCE)
    wav = resample(r.audio, r.sr, 16000)
    ph = align(wav, SENTENCE)
    assert ph is not None
    # Onsets of bilabials from alignment vs eSpeak's exact ones.
    ref = [p.start for p in r.phones if p.label in ("P", "B", "M")]
    got = [p.start for p in ph if p.label in ("P", "B", "M")]
    assert len(got) == len(ref)
    assert np.median(np.abs(np.array(got) - np.array(ref))) < 0.04


def test_failed_alignment_falls_back_to_acoustics():
    text = "Papa makes my hot pasta."  # a sentence pocketsphinx's aligner cannot fit to eSpeak's voice
    r = synthesize(text)
    a = analyse(resample(r.audio, r.sr, 16000), transcript=text)
    assert a.phone_source in ("aligned", "acoustic") and len(a.phones) > 5


def test_acoustic_phones_and_vad_on_real_speech(fixtures_dir):
    wav = load_audio(fixtures_dir / "speech" / "EDTalk_RD_Radio51_000.wav")
    a = analyse(wav)
    assert a.phone_source == "acoustic"
    speech_time = sum(b - s for s, b in a.speech)
    assert 0.6 * a.duration < speech_time <= a.duration
    vowels = [p for p in a.phones if p.label in ("AA", "AE", "AH", "AO", "EH", "IY", "IH", "UW", "OW", "AY", "EY", "ER")]
    assert len(vowels) > 2 * a.duration  # a few syllables a second
    assert a.envelope.shape[0] == pytest.approx(a.duration * 100, abs=2)


def test_non_english_speech_gets_phones(fixtures_dir):
    a = analyse(load_audio(fixtures_dir / "speech" / "SadTalker_fayu.wav"))
    assert len([p for p in a.phones if p.label != "SIL"]) > 20


def test_voice_activity_matches_silero_vads_own_rules(fixtures_dir):
    """The ONNX-only VAD (no torch) gives the same spans as silero-vad's get_speech_timestamps."""
    pytest.importorskip("torch")
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    from emocast.media import load_audio
    from emocast.speech.vad import speech_segments

    model = load_silero_vad(onnx=True)
    tts = synthesize(SENTENCE)
    wavs = [load_audio(p) for p in sorted((fixtures_dir / "speech").glob("*.wav"))] + [resample(tts.audio, tts.sr, 16000)]
    for wav in wavs:
        ref = get_speech_timestamps(torch.from_numpy(wav), model, sampling_rate=16000, min_silence_duration_ms=150,
                                    speech_pad_ms=30, return_seconds=True)
        assert speech_segments(wav) == [(float(t["start"]), float(t["end"])) for t in ref]
    assert speech_segments(np.zeros(8000, np.float32)) == []
