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


def find_phones(wav: np.ndarray, transcript: str | None = None, sr: int = 16000) -> tuple[list[Phone], str]:
    """Phone timings of speech without given ones: forced alignment of ``transcript`` (pocketsphinx)
    when there is one and it fits, else phone-loop recognition of the audio (any language).

    Args:
        wav: ``float32 (n,)`` mono waveform at 16 kHz.
        transcript: the words spoken, if known (English).
        sr: sample rate in Hz (16000).

    Returns:
        ``(phones, source)``: ARPAbet phones with start/end in seconds, and ``"aligned"`` or
        ``"acoustic"`` (:attr:`SpeechAnalysis.phone_source`).
    """
    if transcript:
        from .align import align

        phones = align(wav, transcript, sr)
        if phones is not None:
            return phones, "aligned"
    from .recognise import recognise_phones

    return recognise_phones(wav, sr), "acoustic"


def analyse(wav: np.ndarray, transcript: str | None = None, sr: int = 16000,
            phones: list[Phone] | None = None, phone_source: str = "tts") -> SpeechAnalysis:
    """Analyse speech for lip sync.

    Phones come from, in order of preference: ``phones`` given by the caller (TTS, or
    :func:`find_phones` run elsewhere), else :func:`find_phones` (forced alignment of ``transcript``,
    or phone-loop recognition of the audio). Phones that were not given exactly (any source but
    ``"tts"``) outside voice activity are turned into silence so the mouth closes in pauses.

    Args:
        wav: ``float32 (n,)`` mono waveform at 16 kHz.
        transcript: the words spoken, if known (English).
        sr: sample rate in Hz (16000).
        phones: phone timings, e.g. exact ones from :func:`emocast.speech.tts.synthesize`.
        phone_source: where given ``phones`` came from (:attr:`SpeechAnalysis.phone_source`).

    Returns:
        :class:`SpeechAnalysis`.
    """
    from .vad import speech_segments

    if phones is None:
        phones, phone_source = find_phones(wav, transcript, sr)
    segs = speech_segments(wav, sr)
    if phone_source != "tts":
        phones = _silence_outside(phones, segs)
    return SpeechAnalysis(phones=phones, phone_source=phone_source, envelope=envelope_100hz(wav, sr), speech=segs,
                          duration=len(wav) / sr)


def _silence_outside(phones: list[Phone], segs: list[tuple[float, float]]) -> list[Phone]:
    out = []
    for p in phones:
        mid = 0.5 * (p.start + p.end)
        inside = any(a - 0.02 <= mid <= b + 0.02 for a, b in segs)
        out.append(p if inside or p.label == "SIL" else Phone(p.start, p.end, "SIL"))
    return out
