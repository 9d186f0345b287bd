"""Phoneme inventory (ARPAbet, as in the CMU dictionary) and the phoneme classes used for lip sync."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phone:
    """One phoneme segment.

    Attributes:
        start: start time in seconds.
        end: end time in seconds.
        label: ARPAbet symbol without stress digit (``"P"``, ``"AA"``) or ``"SIL"`` for silence.
    """

    start: float
    end: float
    label: str


VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
CONSONANTS = frozenset("B CH D DH F G HH JH K L M N NG P R S SH T TH V W Y Z ZH".split())
ARPABET = VOWELS | CONSONANTS | {"SIL"}

BILABIALS = frozenset({"P", "B", "M"})
"""Lips close fully."""
LABIODENTALS = frozenset({"F", "V"})
"""Lower lip tucks under the upper teeth."""
ROUNDED = frozenset({"UW", "UH", "OW", "OY", "AO", "W", "R", "ER", "SH", "ZH", "CH", "JH"})
"""Lips round and protrude."""
OPEN_VOWELS = frozenset({"AA", "AE", "AO", "AW", "AY"})
"""Open (low) vowels: the jaw drops and the lips part widely."""

# eSpeak NG English phoneme mnemonics -> ARPAbet. Stress marks are stripped before look-up.
_ESPEAK = {
    "p": "P", "b": "B", "t": "T", "d": "D", "k": "K", "g": "G", "f": "F", "v": "V", "T": "TH", "D": "DH",
    "s": "S", "z": "Z", "S": "SH", "Z": "ZH", "h": "HH", "m": "M", "n": "N", "N": "NG", "l": "L", "r": "R",
    "w": "W", "j": "Y", "tS": "CH", "dZ": "JH", "t#": "T", "d#": "D", "?": "T", "x": "HH", "C": "HH",
    "n-": "N", "m-": "M", "l-": "L", "r-": "R", "@L": "L", "W": "W",
    "a": "AE", "aa": "AA", "A:": "AA", "A": "AA", "A@": "AA", "a#": "AH", "aI": "AY", "aI@": "AY", "aI3": "AY",
    "aU": "AW", "aU@": "AW", "E": "EH", "e@": "EH", "eI": "EY", "e": "EH", "i": "IY", "i:": "IY", "i@": "IY",
    "i@3": "IY", "I": "IH", "I@": "IH", "I2": "IH", "I#": "IH", "IR": "IH", "@": "AH", "@2": "AH", "@5": "AH",
    "@-": "AH", "3": "ER", "3:": "ER", "VR": "ER", "0": "AA", "O": "AO", "O:": "AO", "O@": "AO", "OI": "OY",
    "o@": "AO", "oU": "OW", "o": "OW", "U": "UH", "U@": "UH", "u:": "UW", "u": "UW", "V": "AH", "y": "UW",
}


def espeak_to_arpabet(name: str) -> str | None:
    """Map an eSpeak NG phoneme mnemonic (``"tS"``, ``"aI"``, ``"_:"``) to ARPAbet.

    Returns ``"SIL"`` for pauses, ``None`` for events that are not phonemes (stress or tone marks).
    Unknown vowels fall back to ``"AH"`` and unknown consonants to ``"T"`` (close in mouth shape).
    """
    n = name.strip().strip("'\",%=")
    if not n:
        return None
    if n.startswith("_") or n in {"||", "|"}:
        return "SIL"
    n = n.replace(";", "")
    if not n:
        return None
    if n in _ESPEAK:
        return _ESPEAK[n]
    if n[:2] in _ESPEAK:
        return _ESPEAK[n[:2]]
    if n[0] in _ESPEAK:
        return _ESPEAK[n[0]]
    return "AH" if n[0].lower() in "aeiouy@03" else "T"


def arpabet(label: str) -> str:
    """Normalise an ARPAbet label: upper case, stress digit removed, silences and noises -> ``"SIL"``."""
    l = label.strip().upper().rstrip("012")
    return l if l in ARPABET else "SIL"
