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


def _decoder():
    from pocketsphinx import Decoder

    return Decoder(samprate=16000, allphone=os.path.join(_model_dir(), "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
                   beam=1e-20, pbeam=1e-20, bestpath=False, loglevel="FATAL")


def _pcm16(wav: np.ndarray) -> bytes:
    return (np.clip(wav, -1, 1) * 32767).astype("<i2").tobytes()


def recognise_phones(wav: np.ndarray, sr: int = 16000) -> list[Phone]:
    """Phone-loop decoding of ``wav``.

    Args:
        wav: ``float32 (n,)`` mono speech at 16 kHz.
        sr: sample rate in Hz; must be 16000.

    Returns:
        Phones with times in seconds (``"SIL"`` for silence and noise).
    """
    if sr != 16000:
        raise ValueError("recognise_phones expects 16 kHz audio")
    dec = _decoder()
    dec.start_utt()
    dec.process_raw(_pcm16(wav), full_utt=True)
    dec.end_utt()
    phones = []
    for s in dec.seg():
        start, end = s.start_frame / 100.0, (s.end_frame + 1) / 100.0
        if end > start:
            phones.append(Phone(start, end, arpabet(s.word)))
    return phones


class PhoneStream:
    """The phone loop of :func:`recognise_phones` run on a stream: audio goes in blocks of
    ``block_hops`` 10 ms hops, and after each block the decoder's current best path (its partial
    hypothesis) labels the hops heard so far. The last ~100 ms of a partial path are the least sure;
    a reader keeps that far behind :attr:`hops`. The utterance is restarted on every long pause
    (and after ``max_utterance_s``) so each update costs the same however long the session runs.

    Labels depend only on the samples pushed, never on how they were split into chunks.

    Args:
        block_hops: hops per decoder update (2 = 20 ms).
        max_utterance_s: longest stretch (s) decoded as one utterance.

    Attributes:
        hops: hops labelled so far (hop ``i`` covers ``[10 i, 10 (i + 1))`` ms).
    """

    HOP = 160

    def __init__(self, block_hops: int = 2, max_utterance_s: float = 20.0):
        self._dec = _decoder()
        self._dec.start_utt()
        self._utt_start = 0
        self._block = block_hops * self.HOP
        self._max_utt = int(max_utterance_s * 100)
        self._pending = np.zeros(0, np.float32)
        self.hops = 0

    def push(self, samples: np.ndarray) -> list[tuple[int, int, str]]:
        """Decode the complete blocks ``samples`` finish.

        Args:
            samples: ``float32 (n,)`` mono at 16 kHz, following the previous push.

        Returns:
            ``[(first_hop, end_hop, label), ...]``: ARPAbet labels (``"SIL"`` for silence) of hop spans
            ``[first_hop, end_hop)``, after each decoded block (later spans relabel earlier hops).
        """
        x = np.concatenate([self._pending, np.asarray(samples, np.float32).reshape(-1)])
        out: list[tuple[int, int, str]] = []
        n = len(x) // self._block
        for i in range(n):
            self._dec.process_raw(_pcm16(x[i * self._block:(i + 1) * self._block]), full_utt=False)
            self.hops += self._block // self.HOP
            out += self._partial()
        self._pending = x[n * self._block:]
        return out

    def _partial(self) -> list[tuple[int, int, str]]:
        segs = [(self._utt_start + s.start_frame, self._utt_start + s.end_frame + 1, arpabet(s.word))
                for s in (self._dec.seg() or [])]
        segs = [(a, min(b, self.hops), w) for a, b, w in segs if b > a]
        if self.hops - self._utt_start >= self._max_utt or self._in_pause(segs):
            self._dec.end_utt()
            self._dec.start_utt()
            self._utt_start = self.hops
        return segs

    PAUSE_HOPS = 50
    """Trailing silence (hops of 10 ms) after which the utterance is restarted."""

    def _in_pause(self, segs) -> bool:
        return bool(segs) and segs[-1][2] == "SIL" and segs[-1][1] - segs[-1][0] >= self.PAUSE_HOPS and \
            segs[-1][1] >= self.hops - 1
