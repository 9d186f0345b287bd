"""Text to speech with eSpeak NG (``espeakng-loader`` ships the library and its data; no apt).

One synthesis call returns the waveform and the exact sample position of every phoneme, taken from
eSpeak NG's own phoneme events (``espeakINITIALIZE_PHONEME_EVENTS``), so TTS input needs no aligner.

eSpeak NG keeps synthesiser state in static variables between calls (its pitch "flutter" table
index, amplitude smoothing, ...), so the same text spoken twice in one process gave waveforms that
part after the first voiced sound (a few samples longer or shorter each time). Each call therefore
loads the library afresh and unloads it after (``dlclose``; about 10 ms): the same text, voice and
rate always give the same samples, so the same job gives the same video in any process.
"""
from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .phonemes import Phone, espeak_to_arpabet

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED, _EVENT_WORD, _EVENT_PHONEME, _EVENT_END, _EVENT_MSG_TERMINATED = 0, 1, 7, 5, 6
_RATE_PARAM, _PITCH_PARAM = 1, 3


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))
_lock = threading.Lock()
_lib = None
_rate = 0


def _unload() -> None:
    """Terminate and unload the library so the next call starts from eSpeak NG's initial state."""
    global _lib
    if _lib is None:
        return
    _lib.espeak_Terminate()
    try:
        import _ctypes

        (getattr(_ctypes, "dlclose", None) or getattr(_ctypes, "FreeLibrary"))(_lib._handle)
    except (ImportError, AttributeError, OSError):  # pragma: no cover - platform without unloading
        pass
    _lib = None


def _library():
    global _lib, _rate
    if _lib is None:
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_CALLBACK]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, espeakng_loader.get_data_path().encode(),
                                     _INITIALIZE_PHONEME_EVENTS)
        if rate <= 0:
            raise RuntimeError("eSpeak NG failed to initialise")
        _lib, _rate = lib, rate
    return _lib


@dataclass
class TTSResult:
    """Synthesised speech.

    Attributes:
        audio: ``float32 (n,)`` waveform at ``sr`` Hz.
        sr: sample rate in Hz (eSpeak NG's native 22050).
        phones: ARPAbet phones with exact start/end times in seconds (silence as ``"SIL"``).
        words: ``(start_s, text)`` for each word.
    """

    audio: np.ndarray
    sr: int
    phones: list[Phone]
    words: list[tuple[float, str]]


def synthesize(text: str, voice: str = "en-us", rate_wpm: int = 160, pitch: int = 50) -> TTSResult:
    """Speak ``text`` with eSpeak NG and return audio plus exact phoneme timings.

    Args:
        text: what to say (UTF-8; any language eSpeak NG has a voice for).
        voice: eSpeak NG voice name, e.g. ``"en-us"``, ``"en-gb"``, ``"fr"``, ``"de"``.
        rate_wpm: speaking rate in words per minute.
        pitch: base pitch, 0-100.

    Returns:
        :class:`TTSResult`.

    Raises:
        InputError: empty text or unknown voice.
    """
    if not text or not text.strip():
        raise InputError("--text", "text to speak is empty")
    with _lock:
        lib = _library()
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            _unload()
            raise InputError("--voice", f"unknown eSpeak NG voice {voice!r}")
        lib.espeak_SetParameter(_RATE_PARAM, int(rate_wpm), 0)
        lib.espeak_SetParameter(_PITCH_PARAM, int(pitch), 0)
        chunks: list[np.ndarray] = []
        events: list[tuple[int, int, str, int]] = []

        def cb(wav, n, ev):
            if n > 0 and wav:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            i = 0
            while ev[i].type != _EVENT_LIST_TERMINATED:
                e = ev[i]
                name = e.id.string.decode("ascii", "replace") if e.type == _EVENT_PHONEME else ""
                events.append((e.type, e.sample, name, e.text_position, e.length))
                i += 1
            return 0

        c_cb = _CALLBACK(cb)
        lib.espeak_SetSynthCallback(c_cb)
        data = text.encode("utf-8") + b"\0"
        try:
            lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
            lib.espeak_Synchronize()
        finally:
            _unload()
        sr = _rate
    audio = (np.concatenate(chunks).astype(np.float32) / 32768.0) if chunks else np.zeros(0, np.float32)
    if audio.size == 0:
        raise InputError("--text", "eSpeak NG produced no audio for this text")
    total = audio.size / sr
    phones: list[Phone] = []
    words: list[tuple[float, str]] = []
    ph_events = [(s / sr, name) for t, s, name, _, _ in events if t == _EVENT_PHONEME]
    for t, s, _, pos, length in events:
        if t == _EVENT_WORD:
            words.append((s / sr, text[max(pos - 1, 0):max(pos - 1, 0) + length]))
    for k, (start, name) in enumerate(ph_events):
        end = ph_events[k + 1][0] if k + 1 < len(ph_events) else total
        label = espeak_to_arpabet(name)
        if end <= start or label is None:
            continue
        if phones and phones[-1].label == label == "SIL":
            phones[-1] = Phone(phones[-1].start, end, "SIL")
            continue
        phones.append(Phone(start, end, label))
    return TTSResult(audio=audio, sr=sr, phones=phones, words=words)
