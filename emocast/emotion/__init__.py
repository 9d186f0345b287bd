"""Emotion stage: free text / label / mix / timeline -> per-frame MEAD weights and intensity -> AUs."""
from .labels import MEAD_EMOTIONS, canonical
from .parse import build_track, parse_emotion, parse_spec
from .track import EmotionSegment, EmotionTrack

__all__ = ["MEAD_EMOTIONS", "canonical", "parse_emotion", "parse_spec", "build_track", "EmotionSegment", "EmotionTrack"]
