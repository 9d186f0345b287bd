"""The live read-out of how an emotion description was understood (weights and intensity).

The page calls :func:`emotion_readout` on every keystroke; it parses the text exactly as
``emocast generate --emotion`` would and renders the result as a small HTML table with one bar per
MEAD emotion.
"""
from __future__ import annotations

import html
import math

from ..errors import InputError

_COLOURS = {
    "neutral": "#9ca3af", "happy": "#f59e0b", "sad": "#3b82f6", "angry": "#ef4444",
    "fear": "#8b5cf6", "disgusted": "#10b981", "surprised": "#ec4899", "contempt": "#78716c",
}


def emotion_text(free_text: str | None, timeline: str | None) -> str:
    """The emotion string handed to the generator: the timeline when given, else the free text."""
    t = (timeline or "").strip()
    return t if t else ((free_text or "").strip() or "neutral")


def _span(start: float, end: float) -> str:
    end_s = "end" if not math.isfinite(end) else f"{end:g} s"
    return f"{start:g} s – {end_s}"


def segments_html(segments) -> str:
    """HTML for parsed :class:`~emocast.emotion.track.EmotionSegment` objects."""
    from ..emotion.labels import MEAD_EMOTIONS

    rows = []
    timeline = len(segments) > 1 or (segments and (segments[0].start > 0 or math.isfinite(segments[0].end)))
    for seg in segments:
        head = html.escape(seg.describe())
        if timeline:
            head = f"<b>{html.escape(_span(seg.start, seg.end))}</b>: {head}"
        bars = []
        for name, w in zip(MEAD_EMOTIONS, [float(x) for x in seg.weights]):
            pct = max(0.0, min(100.0, 100.0 * w))
            bars.append(
                f'<div class="emo-row"><span class="emo-name">{name}</span>'
                f'<span class="emo-bar"><span style="width:{pct:.0f}%;background:{_COLOURS.get(name, "#888")}">'
                f'</span></span><span class="emo-val">{w:.2f}</span></div>')
        ipct = 100.0 * max(0.0, min(1.0, float(seg.intensity)))
        bars.append(
            f'<div class="emo-row emo-intensity"><span class="emo-name">intensity</span>'
            f'<span class="emo-bar"><span style="width:{ipct:.0f}%;background:#111827"></span></span>'
            f'<span class="emo-val">{float(seg.intensity):.2f}</span></div>')
        rows.append(f'<div class="emo-seg"><div class="emo-head">{head}</div>{"".join(bars)}</div>')
    return f'<div class="emo-readout">{"".join(rows)}</div>'


def error_html(message: str) -> str:
    """HTML for an emotion description that could not be understood."""
    return f'<div class="emo-readout emo-error">{html.escape(message)}</div>'


def emotion_readout(free_text: str | None, timeline: str | None = None, intensity: float | None = None) -> str:
    """Parse the page's emotion inputs and return the read-out HTML (never raises on bad text).

    Args:
        free_text: the free-text emotion box (a label, a mix such as ``"happy:0.7,surprised:0.3"``
            or a description such as ``"nervous but trying to smile"``).
        timeline: the optional timeline box; used instead of ``free_text`` when not blank.
        intensity: fixed intensity in [0, 1], or ``None`` to read it from the text.
    """
    from ..emotion import parse_emotion

    try:
        return segments_html(parse_emotion(emotion_text(free_text, timeline), intensity=intensity))
    except InputError as e:
        return error_html(str(e))
