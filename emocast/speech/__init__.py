"""Speech stage: phoneme timings (TTS, forced alignment or phone recognition), loudness, voice activity."""
from .analyse import SpeechAnalysis, analyse
from .phonemes import BILABIALS, OPEN_VOWELS, ROUNDED, LABIODENTALS, Phone

__all__ = ["SpeechAnalysis", "analyse", "Phone", "BILABIALS", "OPEN_VOWELS", "ROUNDED", "LABIODENTALS"]
