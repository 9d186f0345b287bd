"""Speech analysis: phoneme timings, loudness and voice activity of one clip."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .acoustic import envelope_100hz
from .phonemes import Phone


@dataclass
class SpeechAnalysis:
    """What the motion stage needs from the audio.

    Attributes:
        phones: ARPAbet phones with start/end in seconds (``"SIL"`` for silence).
        phone_source: ``"tts"`` (exact eSpeak NG timings), ``"aligned"`` (pocketsphinx forced
            alignment of a transcript) or ``"acoustic"`` (phone-loop recognition).
        envelope: ``float32 (T,)`` loudness in [0, 1] at 100 Hz.
        speech: ``[(start_s, end_s)]`` voice-activity segments (silero-vad).
        duration: audio duration in seconds.
    """

    phones: list[Phone]
    phone_source: str
    envelope: np.ndarray
    speech: list[tuple[float, float]]
    duration: float

    hop_s: float = 0.01


def analyse(wav: np.ndarray, transcript: str | None = None, sr: int = 16000,
            phones: list[Phone] | None = None) -> SpeechAnalysis:
    """Analyse speech for lip sync.

    Phones come from, in order of preference: ``phones`` given by the caller (TTS), forced alignment
    of ``transcript`` (pocketsphinx), or phone-loop recognition of the audio (any language).
    Phones outside voice activity are turned into silence so the mouth closes in pauses.

    Args:
        wav: ``float32 (n,)`` mono waveform at 16 kHz.
        transcript: the words spoken, if known (English).
        sr: sample rate in Hz (16000).
        phones: exact phone timings, e.g. from :func:`emocast.speech.tts.synthesize`.

    Returns:
        :class:`SpeechAnalysis`.
    """
    from .vad import speech_segments

    source = "tts"
    if phones is None and transcript:
        from .align import align

        phones, source = align(wav, transcript, sr), "aligned"
    if phones is None:
        from .recognise import recognise_phones

        phones, source = recognise_phones(wav, sr), "acoustic"
    segs = speech_segments(wav, sr)
    if source != "tts":
        phones = _silence_outside(phones, segs)
    return SpeechAnalysis(phones=phones, phone_source=source, envelope=envelope_100hz(wav, sr), speech=segs,
                          duration=len(wav) / sr)


def _silence_outside(phones: list[Phone], segs: list[tuple[float, float]]) -> list[Phone]:
    out = []
    for p in phones:
        mid = 0.5 * (p.start + p.end)
        inside = any(a - 0.02 <= mid <= b + 0.02 for a, b in segs)
        out.append(p if inside or p.label == "SIL" else Phone(p.start, p.end, "SIL"))
    return out
