"""`emocast live` driven in headless Chromium with a fake microphone fed from a fixture WAV.

Starts ``python -m emocast live`` on a free localhost port; Chromium (Playwright, Debian's build)
opens the page with ``--use-fake-device-for-media-stream --use-file-for-fake-audio-capture=F.wav%noloop``
(the file is spoken once, then the microphone is silent) and presses Start. The page measures what it
shows: frames per second (``requestVideoFrameCallback``) and the pixel motion of the mouth region
between consecutive frames. Checked: frames arrive at >= 20 fps, the mouth moves while the file speaks
and is still after it ends; a line typed into "Say" moves the mouth again; a bad emotion is answered
with its one-line error on the page and the session goes on. A screenshot is saved
(``$EMOCAST_SCREENSHOT_DIR`` keeps a copy).

Skipped with the reason when Playwright, Chromium or the live extra is missing, unless
``EMOCAST_REQUIRE_BROWSER=1`` (CI), in which case it fails instead.
"""
from __future__ import annotations

import os
import shutil
import urllib.request

import numpy as np
import pytest

from tests.serve.test_browser import CHROMIUM_ARGS, _chromium, _free_port, _missing, running_emocast

SPEECH_S = 6.0
"""Seconds of the fixture clip the fake microphone speaks (then silence)."""


@pytest.fixture(scope="module")
def speech_wav(fixtures_dir, tmp_path_factory):
    """The fixture clip cut to SPEECH_S, as 16-bit 48 kHz mono WAV (what Chromium's fake capture reads)."""
    import wave

    from emocast.media.audio import load_audio

    x = load_audio(fixtures_dir / "speech" / "SadTalker_RD_Radio36_000.wav", sr=48000)[: int(48000 * SPEECH_S)]
    path = tmp_path_factory.mktemp("live-mic") / "mic.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())
    return str(path)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """A running ``emocast live`` (astronaut, 384 px): yields ``(url, log_path)``."""
    for mod in ("aiortc", "uvicorn", "starlette"):
        pytest.importorskip(mod, reason="the live extra is not installed (pip install 'emocast[live]')")
    port = _free_port()
    log_path = tmp_path_factory.mktemp("live-server") / "server.log"
    with running_emocast(["live", "--port", str(port), "--size", "384"], f"http://127.0.0.1:{port}/", log_path,
                         timeout_s=120) as url:
        yield url, log_path

def _rate(times: list[float], a: float, b: float) -> float:
    t = np.array([x for x in times if a <= x <= b])
    return (len(t) - 1) / (t[-1] - t[0]) if len(t) > 1 else 0.0


def _motion(motion: list, a: float, b: float) -> float:
    m = [d for t, d in motion if a <= t <= b]
    return float(np.mean(m)) if m else float("nan")


def test_live_page_with_a_fake_microphone(live_server, speech_wav, tmp_path):
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install playwright); see .ci/install-browser.sh")
    exe = _chromium()
    url, log_path = live_server
    args = CHROMIUM_ARGS + ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                            f"--use-file-for-fake-audio-capture={speech_wav}%noloop", "--autoplay-policy=no-user-gesture-required"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=args, headless=True)
        page = browser.new_page(viewport={"width": 1200, "height": 800})
        page.set_default_timeout(60_000)
        page.goto(url)
        page.locator("#emotion0").fill("happy")
        page.locator("#start").click()
        page.wait_for_function("window.emocastStats.micSince && window.emocastStats.frames > 10", timeout=60_000)
        # The page opens the microphone once connected; the fake capture speaks from then on.
        page.wait_for_timeout(int((SPEECH_S + 3.0) * 1000))
        st = page.evaluate("window.emocastStats")
        t0 = st["micSince"]
        speaking = _motion(st["motion"], t0 + 1.0, t0 + SPEECH_S - 1.0)
        silent = _motion(st["motion"], t0 + SPEECH_S + 1.0, t0 + SPEECH_S + 3.0)
        fps = _rate(st["times"], t0 + 1.0, st["times"][-1])
        shot = tmp_path / "live_page.png"
        page.screenshot(path=str(shot))
        if os.environ.get("EMOCAST_SCREENSHOT_DIR"):
            shutil.copy(shot, os.path.join(os.environ["EMOCAST_SCREENSHOT_DIR"], "live_page.png"))
        assert st["error"] is None, st["error"]
        assert fps >= 20, f"{fps:.1f} frames/s on the page\n{log_path.read_text()[-2000:]}"
        with urllib.request.urlopen(f"{url}session/{st['id']}/stats", timeout=5) as r:
            server_stats = r.read().decode()
        assert speaking > 3 * silent and speaking > 1.0, (speaking, silent, server_stats)
        # A typed line moves the mouth again.
        page.locator("#line").fill("Bob made my map, and we all went home.")
        page.locator("#say").click()
        page.wait_for_timeout(2500)
        st2 = page.evaluate("window.emocastStats")
        said = _motion(st2["motion"], st2["times"][-1] - 2.0, st2["times"][-1])
        assert said > 3 * silent, (said, silent)
        # A bad emotion: the one-line error on the page, and frames keep coming.
        page.locator("#emotion").fill("happy:-1")
        page.locator("#setemotion").click()
        page.wait_for_function("window.emocastStats.error !== null")
        assert "happy" in page.evaluate("window.emocastStats.error")
        n = page.evaluate("window.emocastStats.frames")
        page.wait_for_timeout(500)
        assert page.evaluate("window.emocastStats.frames") > n + 5
        browser.close()
    print(f"live page: {fps:.1f} frames/s, mouth motion speaking {speaking:.2f} vs silent {silent:.2f}")


def test_page_refuses_bad_requests_with_one_line(astronaut_png):
    """Without a browser: the offer endpoint answers bad bodies, pictures and sessions with HTTP 400
    and a one-line error, and an unknown session with 404."""
    for mod in ("aiortc", "starlette", "httpx"):
        pytest.importorskip(mod, reason="the live extra is not installed (pip install 'emocast[live]')")
    import base64

    from starlette.testclient import TestClient

    from emocast.live.page import LiveServeConfig, build_app

    with TestClient(build_app(LiveServeConfig(portrait=str(astronaut_png)))) as c:
        assert c.get("/").status_code == 200
        r = c.post("/offer", content=b"not json")
        assert r.status_code == 400 and "JSON" in r.json()["error"]
        junk = "data:image/png;base64," + base64.b64encode(b"not a picture").decode()
        r = c.post("/offer", json={"sdp": "x", "type": "offer", "portrait": junk})
        assert r.status_code == 400 and r.json()["error"] == "portrait: cannot read the uploaded picture"
        r = c.post("/offer", json={"sdp": "x", "type": "offer", "emotion": "happy:-1"})
        assert r.status_code == 400 and "\n" not in r.json()["error"] and "happy" in r.json()["error"]
        r = c.post("/offer", json={"sdp": "not sdp", "type": "offer"})
        assert r.status_code == 400 and r.json()["error"].startswith("offer:")
        r = c.get("/session/nope/stats")
        assert r.status_code == 404 and "no such live session" in r.json()["error"]
        r = c.post("/session/nope/say", json={"text": "hi"})
        assert r.status_code == 400
