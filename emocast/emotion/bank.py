"""Emotive descriptions per MEAD emotion, and intensity modifiers.

The bank plays the role of the paper's ETTH emotive text descriptions (Sec. 3.3) and DICE-Talk's
"emotion bank": free text is compared with every description and similar emotions share weight.
"""
from __future__ import annotations

BANK: dict[str, list[str]] = {
    "neutral": [
        "a calm, neutral face", "speaking in a relaxed, even tone", "composed and expressionless",
        "matter-of-fact and steady", "reading the news calmly", "no particular emotion",
    ],
    "happy": [
        "smiling happily", "joyful and cheerful", "delighted and laughing", "excited about good news",
        "she just won the lottery", "warm friendly smile", "grateful and pleased", "proud and content",
    ],
    "sad": [
        "sad and tearful", "grieving a loss", "she just heard her dog died", "heartbroken and depressed",
        "disappointed and gloomy", "crying softly", "lonely and hopeless", "melancholic and downcast",
    ],
    "angry": [
        "angry and shouting", "furious with rage", "irritated and annoyed", "frowning in anger",
        "yelling at someone who betrayed him", "hostile and aggressive", "outraged", "clenching teeth in fury",
    ],
    "fear": [
        "terrified and scared", "trembling with fear", "anxious and nervous", "frightened by a noise in the dark",
        "panicking", "afraid of what comes next", "worried and tense", "horrified, whispering in fear",
    ],
    "disgusted": [
        "disgusted and repulsed", "smelling something rotten", "grossed out", "revolted by a foul taste",
        "nauseated", "wrinkling the nose in disgust", "sickened by what he saw",
    ],
    "surprised": [
        "surprised and astonished", "shocked by unexpected news", "amazed, eyes wide open", "startled",
        "can't believe what just happened", "stunned with open mouth", "wow, unexpected",
        "speechless with astonishment", "she can't believe her eyes", "caught completely off guard",
    ],
    "contempt": [
        "contemptuous and scornful", "smirking with disdain", "looking down on someone", "sneering arrogantly",
        "dismissive and condescending", "mocking with a one-sided smile",
    ],
}

INTENSIFIERS: dict[str, float] = {
    # multiplier on the default intensity (0.7) -> clipped to [0, 1]
    "slightly": 0.5, "a bit": 0.55, "a little": 0.55, "somewhat": 0.65, "mildly": 0.55, "faintly": 0.4,
    "barely": 0.35, "kind of": 0.65, "quietly": 0.8, "softly": 0.8,
    "very": 1.3, "really": 1.25, "so": 1.2, "extremely": 1.45, "incredibly": 1.45, "deeply": 1.3,
    "utterly": 1.45, "absolutely": 1.4, "completely": 1.4, "totally": 1.35, "intensely": 1.45,
}
STRONG_WORDS: dict[str, float] = {
    # words whose emotion is already strong (or weak) set intensity directly
    "furious": 1.0, "enraged": 1.0, "rage": 0.95, "terrified": 1.0, "horrified": 0.95, "ecstatic": 1.0,
    "devastated": 1.0, "heartbroken": 0.95, "elated": 0.95, "petrified": 1.0, "livid": 1.0, "shocked": 0.9,
    "annoyed": 0.5, "irritated": 0.55, "content": 0.5, "pleased": 0.55, "uneasy": 0.5, "nervous": 0.6,
    "wistful": 0.5, "calm": 0.0, "neutral": 0.0,
}
DEFAULT_INTENSITY = 0.7
