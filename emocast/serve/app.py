"""The Gradio page of ``emocast serve``: layout, events and launch.

The page has three columns: the portrait (upload, webcam or clipboard) with the detected face drawn
on it; the speech (audio upload, microphone, or text to speak) and the emotion (free text with a live
read-out, a MEAD label, intensity, optional timeline) with the render options; and the result video
with its download button. Rendering itself is :class:`emocast.serve.render.Renderer`.
"""
from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Callable, NamedTuple

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from ..emotion.labels import MEAD_EMOTIONS  # noqa: E402
from ..errors import InputError  # noqa: E402
from ..options import GenerateOptions, spec  # noqa: E402
from .config import ServeConfig  # noqa: E402
from .preview import face_preview  # noqa: E402
from .readout import emotion_readout  # noqa: E402
from .render import RenderInputs, Renderer  # noqa: E402

log = logging.getLogger("emocast.serve")

SIZES = [256, 384, 512, 768, 1024]
"""Output sizes offered on the page (long side, pixels)."""
WEB_DEFAULTS = {"size": 512, "intensity": 0.7}
"""Where the page's starting values differ from :class:`GenerateOptions`' defaults: a size from
:data:`SIZES` (the page has no "the portrait's own" choice) and the intensity slider's resting place
(the slider is off, and the intensity read from the text, until "Fixed intensity" is ticked)."""

FORM = {"emotion": "emotion", "intensity": "intensity", "transcript": "speech-text", "voice": "voice",
        "still": "still", "pose_scale": "pose-scale", "size": "size", "face_index": "face-index", "fps": "fps",
        "seed": "seed"}
"""The page's control (``elem_id``) of every option it offers; the others (:attr:`OptionSpec.web` false:
engine and weights) are the server's settings (:class:`~emocast.serve.config.ServeConfig`). The text box
is both the text to speak and the transcript of uploaded audio."""

VOICES = ["en-us", "en-gb", "en-gb-scotland", "fr-fr", "de", "es", "it", "pt-br", "nl", "pl", "ru", "cmn", "ja", "hi"]
"""eSpeak NG voices offered for text to speak (any other voice name may be typed)."""

CSS = """
.emo-readout { font-size: 0.85rem; line-height: 1.25; }
.emo-seg { margin-bottom: 0.5rem; }
.emo-head { font-weight: 600; margin-bottom: 0.25rem; }
.emo-row { display: flex; align-items: center; gap: 0.4rem; }
.emo-name { width: 5.5rem; text-align: right; opacity: 0.8; }
.emo-bar { flex: 1; height: 0.6rem; background: rgba(127,127,127,0.15); border-radius: 3px; overflow: hidden; }
.emo-bar > span { display: block; height: 100%; }
.emo-val { width: 2.5rem; font-variant-numeric: tabular-nums; }
.emo-intensity { margin-top: 0.2rem; }
.emo-error { color: #b91c1c; font-weight: 600; }
#face-status, #summary { font-size: 0.9rem; }
"""

INTRO = """# EmoCAST — emotional talking portraits
One photo, some speech and the feeling you want: EmoCAST animates the face to speak it, on the CPU.
Upload a portrait, give speech (audio or text to speak), describe the emotion in your own words, and press **Render**.
"""


def _theme():
    """Gradio's default theme with fonts that need no download (the page works offline)."""
    return gr.themes.Default(primary_hue="orange",
                             font=["ui-sans-serif", "system-ui", "sans-serif"],
                             font_mono=["ui-monospace", "Consolas", "monospace"])


def _readable_portraits(image: gr.Image) -> gr.Image:
    """Make ``image`` report unreadable uploads with the CLI's one-line message, not a bare "Error".

    Gradio opens an uploaded image before any handler runs, so a corrupt file would fail there
    with no message in the page. The wrapped ``preprocess`` re-reads such a file with
    :func:`emocast.media.load_image` to say why. (A subclass of ``gr.Image`` would do the same, but
    Gradio writes a ``.pyi`` stub beside the module of every component subclass.)
    """
    inner = image.preprocess

    def preprocess(payload):
        try:
            return inner(payload)
        except gr.Error:
            raise
        except Exception as e:
            path = str(getattr(payload, "path", "") or "")
            name = os.path.basename(getattr(payload, "orig_name", None) or path or "portrait")
            message = f"{name}: cannot read image ({type(e).__name__})"
            try:
                from ..media import load_image

                load_image(path)
            except InputError as err:
                message = str(err).replace(path, name)
            except Exception:
                pass
            raise gr.Error(message, duration=None, print_exception=False) from None

    image.preprocess = preprocess
    return image


def _default(name: str):
    return WEB_DEFAULTS.get(name, spec(name).default)


def _number(name: str, **kw) -> gr.Number:
    """A whole-number box for an option, with its default and bounds."""
    s = spec(name)
    return gr.Number(value=_default(name), precision=0, minimum=s.range[0], maximum=s.range[1],
                     elem_id=FORM[name], **kw)


def _slider(name: str, step: float, **kw) -> gr.Slider:
    """A slider for an option over its allowed range, at its default."""
    s = spec(name)
    return gr.Slider(s.range[0], s.range[1], value=_default(name), step=step, elem_id=FORM[name], **kw)


def _face_index(value) -> int | None:
    """The page's face number as ``face_index`` (0 and blank: the largest face)."""
    if value is None or value == "":
        return None
    return max(0, int(value)) or None


class _Handlers(NamedTuple):
    """The page's event handlers (their names are the API's endpoint names)."""

    preview: Callable
    readout: Callable
    render: Callable


@dataclass(frozen=True)
class _PortraitColumn:
    """The components of the portrait column."""

    portrait: gr.Image
    face: gr.Image
    face_status: gr.Markdown


@dataclass(frozen=True)
class _SpeechColumn:
    """The components of the speech and emotion column (with the render options and button)."""

    audio: gr.Audio
    text: gr.Textbox
    voice: gr.Dropdown
    emotion: gr.Textbox
    label: gr.Dropdown
    understood: gr.HTML
    fixed: gr.Checkbox
    intensity: gr.Slider
    timeline: gr.Textbox
    size: gr.Radio
    still: gr.Checkbox
    face_index: gr.Number
    pose_scale: gr.Slider
    fps: gr.Number
    seed: gr.Number
    go: gr.Button


@dataclass(frozen=True)
class _ResultColumn:
    """The components of the result column."""

    video: gr.Video
    summary: gr.Markdown


def build_app(config: ServeConfig, root: str, generate=None) -> gr.Blocks:
    """Build the page.

    Args:
        config: the server's settings.
        root: work folder; each render gets a folder under ``root/requests``.
        generate: stand-in for :func:`emocast.generate` (tests); ``None`` for the real one.

    Returns:
        The :class:`gradio.Blocks` app (not launched).
    """
    renderer = Renderer(config, os.path.join(root, "requests"), generate=generate)
    handlers = _handlers(config, renderer)
    with gr.Blocks(title="EmoCAST", analytics_enabled=False,
                   delete_cache=(600, int(config.keep_minutes * 60))) as demo:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            portrait = _portrait_column()
            speech = _speech_and_emotion_column()
            result = _result_column(config)
        _wire_events(config, handlers, portrait, speech, result)
    demo.queue(max_size=32)
    return demo


def _handlers(config: ServeConfig, renderer: Renderer) -> _Handlers:
    """The face preview, emotion read-out and render handlers, bound to the server's settings and renderer."""

    def preview(portrait, face_index):
        return face_preview(portrait, _face_index(face_index), max_mb=config.max_portrait_mb)

    def readout(text, timeline, fixed, intensity):
        return emotion_readout(text, timeline, float(intensity) if fixed else None)

    def render(portrait, audio, text, voice, emotion, timeline, fixed, intensity, still, pose_scale, size,
               face_index, fps=_default("fps"), seed=_default("seed"), progress=gr.Progress()):
        options = GenerateOptions(emotion=emotion or "", intensity=float(intensity) if fixed else None,
                                  voice=voice or _default("voice"), still=bool(still), pose_scale=float(pose_scale),
                                  size=int(size), face_index=_face_index(face_index),
                                  fps=int(fps if fps is not None else _default("fps")),
                                  seed=int(seed if seed is not None else _default("seed")))
        inputs = RenderInputs(portrait=portrait, audio=audio, text=text or "", timeline=timeline or "",
                              options=options)

        def report(fraction: float, message: str = "") -> None:
            progress(min(1.0, max(0.0, float(fraction))), desc=message or None)

        ws = renderer.workspace()
        try:
            result = renderer.run(ws, inputs, progress=report)
        except InputError as e:
            ws.cleanup()
            raise gr.Error(str(e), duration=None, print_exception=False) from None
        except Exception as e:  # a bug: keep the traceback in the server log, not in the page
            ws.cleanup()
            log.exception("render failed")
            raise gr.Error(f"internal error ({type(e).__name__}); the server log has the details",
                           duration=None, print_exception=False) from None
        try:
            # Gradio copies the mp4 into its cache while this generator is suspended; the request's
            # folder goes when Gradio resumes it (or closes it, if the browser went away).
            yield result.video, "\n".join([f"**{result.summary}**", ""] + [f"- {n}" for n in result.notes])
        finally:
            ws.cleanup()

    return _Handlers(preview, readout, render)


def _portrait_column() -> _PortraitColumn:
    """Lay out the portrait column: the portrait input and the detected face with its status line."""
    with gr.Column(scale=1, min_width=280):
        portrait = _readable_portraits(gr.Image(
            label="Portrait", sources=["upload", "webcam", "clipboard"], type="filepath", image_mode=None,
            height=300, elem_id="portrait"))
        face = gr.Image(label="Detected face (what will move)", interactive=False, height=300,
                        elem_id="face", buttons=[])
        face_status = gr.Markdown("Upload a portrait (or take a webcam snapshot) to see the face that will move.",
                                  elem_id="face-status")
    return _PortraitColumn(portrait, face, face_status)


def _speech_and_emotion_column() -> _SpeechColumn:
    """Lay out the speech and emotion column: speech, emotion with its read-out, options and the Render button."""
    with gr.Column(scale=1, min_width=320):
        audio = gr.Audio(label="Speech: upload or record (optional)", sources=["upload", "microphone"],
                         type="filepath", elem_id="audio")
        with gr.Row():
            text = gr.Textbox(label="Text to speak", lines=2, scale=3, elem_id="speech-text",
                              placeholder="Hello! I am so glad you could make it today.",
                              info="Spoken with eSpeak NG when no audio is given; the transcript of the audio otherwise.")
            voice = gr.Dropdown(VOICES, value=_default("voice"), label="Voice", allow_custom_value=True,
                                scale=1, elem_id=FORM["voice"])
        with gr.Row():
            emotion = gr.Textbox(label="Emotion", value=_default("emotion"), scale=3, elem_id=FORM["emotion"],
                                 placeholder="e.g. nervous but trying to smile, or: happy:0.7,surprised:0.3",
                                 info="Free text, a label, or a mix.")
            label = gr.Dropdown(list(MEAD_EMOTIONS), value=None, label="…or a MEAD label", scale=1,
                                elem_id="label")
        understood = gr.HTML(emotion_readout(_default("emotion")), label="How the emotion was understood",
                             elem_id="readout")
        with gr.Accordion("Intensity and timeline", open=False):
            with gr.Row():
                fixed = gr.Checkbox(label="Fixed intensity", value=False, elem_id="fixed-intensity",
                                    info="Off: read from the words (\"slightly\", \"very\").")
                intensity = _slider("intensity", 0.05, label="Intensity", interactive=False)
            timeline = gr.Textbox(label="Timeline (optional, replaces the emotion above)", lines=2,
                                  elem_id="timeline", placeholder="0-2s: calm; 2s-4s: surprised; 4s-: happy")
        with gr.Accordion("Options", open=True):
            size = gr.Radio(SIZES, value=_default("size"), label="Output size (long side, px)",
                            elem_id=FORM["size"])
            with gr.Row():
                still = gr.Checkbox(label="Still head", value=_default("still"), elem_id=FORM["still"],
                                    min_width=200, info="Mouth and expression only.")
                face_index = gr.Number(value=0, precision=0, minimum=spec("face_index").range[0],
                                       maximum=spec("face_index").range[1], label="Face number",
                                       min_width=200, info="0: the largest face, 1: the next…",
                                       elem_id=FORM["face_index"])
            pose_scale = _slider("pose_scale", 0.1, label="Head motion", info="0: none, 1: natural, 2: lively.")
            with gr.Row():
                fps = _number("fps", label="Frames per second", min_width=200)
                seed = _number("seed", label="Seed", min_width=200, info="Blinks and head drift.")
        go = gr.Button("Render", variant="primary", elem_id="render")
    return _SpeechColumn(audio=audio, text=text, voice=voice, emotion=emotion, label=label, understood=understood,
                         fixed=fixed, intensity=intensity, timeline=timeline, size=size, still=still,
                         face_index=face_index, pose_scale=pose_scale, fps=fps, seed=seed, go=go)


def _result_column(config: ServeConfig) -> _ResultColumn:
    """Lay out the result column: the video with its download button, the summary and the server's limits."""
    with gr.Column(scale=1, min_width=280):
        video = gr.Video(label="Result", interactive=False, buttons=["download"], elem_id="result")
        summary = gr.Markdown("", elem_id="summary")
        gr.Markdown(f"Limits: portrait {config.max_portrait_mb:g} MB, audio {config.max_audio_mb:g} MB "
                    f"and {config.max_audio_seconds:g} s, text {config.max_text_chars} characters.",
                    elem_id="limits")
    return _ResultColumn(video, summary)


def _wire_events(config: ServeConfig, handlers: _Handlers, p: _PortraitColumn, s: _SpeechColumn,
                 r: _ResultColumn) -> None:
    """Connect the columns' events: face preview, MEAD label, intensity switch, emotion read-out and render."""
    for trigger in (p.portrait.change, s.face_index.change):
        trigger(handlers.preview, [p.portrait, s.face_index], [p.face, p.face_status], show_progress="minimal",
                trigger_mode="always_last", concurrency_id="preview")
    s.label.change(lambda v: v or gr.skip(), s.label, s.emotion, show_progress="hidden", queue=False)
    s.fixed.change(lambda f: gr.update(interactive=bool(f)), s.fixed, s.intensity, show_progress="hidden",
                   queue=False)
    for trigger in (s.emotion.change, s.timeline.change, s.fixed.change, s.intensity.change):
        trigger(handlers.readout, [s.emotion, s.timeline, s.fixed, s.intensity], s.understood, show_progress="hidden",
                trigger_mode="always_last", concurrency_id="readout", concurrency_limit=4)
    s.go.click(lambda: "", None, r.summary, show_progress="hidden", queue=False).then(
        handlers.render, [p.portrait, s.audio, s.text, s.voice, s.emotion, s.timeline, s.fixed, s.intensity,
                          s.still, s.pose_scale, s.size, s.face_index, s.fps, s.seed], [r.video, r.summary],
        concurrency_limit=config.concurrency, concurrency_id="render", api_name="render")


def _warm_up() -> None:
    """Load the generator and the emotion parser in the background so the first request is quick."""
    try:
        from .. import api  # noqa: F401
        from ..emotion import parse_emotion

        parse_emotion("a little nervous")
    except Exception:  # only a speed-up: a real error shows on the first request
        log.debug("warm-up failed", exc_info=True)


def _wait_for_stop() -> None:
    """Block until Ctrl+C or SIGTERM."""
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _shutdown(demo: gr.Blocks | None, root: str, remove_root: bool) -> None:
    """Stop the server and remove the work folder (uploads, results, request folders)."""
    if demo is not None:
        demo.close()
    if remove_root:
        shutil.rmtree(root, ignore_errors=True)


def launch(config: ServeConfig, generate=None, block: bool = True):
    """Start the page and (when ``block``) serve until interrupted; the work folder is removed on exit.

    Args:
        config: the server's settings.
        generate: stand-in for :func:`emocast.generate` (tests).
        block: serve until Ctrl+C / SIGTERM; when false return ``(demo, root)`` with the server
            running in the background (the caller closes ``demo`` and removes ``root``).

    Raises:
        OSError: the port is taken.
    """
    config.validate()
    own_root = config.workdir is None
    root = tempfile.mkdtemp(prefix="emocast-serve-") if own_root else os.path.abspath(config.workdir)
    demo = None
    try:
        os.makedirs(os.path.join(root, "gradio"), exist_ok=True)
        os.environ["GRADIO_TEMP_DIR"] = os.path.join(root, "gradio")
        demo = build_app(config, root, generate=generate)
        if not config.is_local:
            print(f"emocast serve: listening on {config.host}: the page is reachable from other machines",
                  file=sys.stderr)
        threading.Thread(target=_warm_up, name="emocast-warm-up", daemon=True).start()
        in_tmp = os.path.realpath(root).startswith(os.path.realpath(tempfile.gettempdir()) + os.sep)
        demo.launch(server_name=config.host, server_port=config.port, share=config.share, show_error=False,
                    max_file_size=config.max_upload_bytes, prevent_thread_lock=True, quiet=True,
                    allowed_paths=None if in_tmp else [os.path.join(root, "requests")],
                    theme=_theme(), css=CSS, footer_links=["gradio", "settings"])
    except BaseException:
        _shutdown(demo if demo is not None and demo.is_running else None, root, own_root)
        raise
    url = f"http://{'127.0.0.1' if config.host in ('0.0.0.0', '::') else config.host}:{config.port}"
    print(f"EmoCAST web page: {url}  (Ctrl+C stops it)", flush=True)
    if not block:
        return demo, root
    try:
        _wait_for_stop()
    finally:
        _shutdown(demo, root, own_root)
    return None
