"""Phonetic recognition without a transcript (pocketsphinx phone loop, English acoustic model).

Word recognition is poor here, but a phone loop over the acoustic model gives a phone stream whose
mouth shapes follow the audio, in any language (the approach of Rhubarb Lip Sync's phonetic
recogniser). Used when neither a transcript nor TTS timings exist.
"""
from __future__ import annotations

import os

import numpy as np

from .phonemes import Phone, arpabet


def _model_dir() -> str:
    import pocketsphinx

    return os.path.join(os.path.dirname(pocketsphinx.__file__), "model", "en-us")


def recognise_phones(wav: np.ndarray, sr: int = 16000) -> list[Phone]:
    """Phone-loop decoding of ``wav``.

    Args:
        wav: ``float32 (n,)`` mono speech at 16 kHz.
        sr: sample rate in Hz; must be 16000.

    Returns:
        Phones with times in seconds (``"SIL"`` for silence and noise).
    """
    from pocketsphinx import Decoder

    if sr != 16000:
        raise ValueError("recognise_phones expects 16 kHz audio")
    dec = Decoder(samprate=16000, allphone=os.path.join(_model_dir(), "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
                  beam=1e-20, pbeam=1e-20, bestpath=False, loglevel="FATAL")
    dec.start_utt()
    dec.process_raw((np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes(), full_utt=True)
    dec.end_utt()
    phones = []
    for s in dec.seg():
        start, end = s.start_frame / 100.0, (s.end_frame + 1) / 100.0
        if end > start:
            phones.append(Phone(start, end, arpabet(s.word)))
    return phones
