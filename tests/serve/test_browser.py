"""`emocast serve` driven in headless Chromium, as a person would use it.

Starts ``python -m emocast serve`` on a free localhost port, then with Playwright and Debian's
Chromium: uploads the astronaut portrait, types text to speak and an emotion, renders at 384 px,
downloads the video the page shows and checks it plays for as long as the speech; then uploads a
picture with no face and checks the page shows the one-line error. A screenshot of the page after
the render is saved (``$EMOCAST_SCREENSHOT_DIR`` keeps a copy).

Skipped with the reason when Playwright or Chromium is missing, unless ``EMOCAST_REQUIRE_BROWSER=1``
(CI installs both with .ci/install-browser.sh and sets it), in which case it fails instead.
"""
from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TEXT = "Hello there, it is nice to see you."
SIZE = 384
EMOTION = "a little scared"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def _missing(reason: str):
    if os.environ.get("EMOCAST_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (EMOCAST_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _chromium() -> str:
    for cand in (os.environ.get("EMOCAST_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                 shutil.which("chromium-browser")):
        if cand and os.path.exists(cand):
            return cand
    _missing("Chromium not found (apt-get install chromium, or set EMOCAST_CHROMIUM); see .ci/install-browser.sh")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A running ``emocast serve`` on a free localhost port: yields ``(url, workdir, log_path)``."""
    pytest.importorskip("gradio", reason="the serve extra is not installed (pip install 'emocast[serve]')")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("serve-work")
    log_path = workdir.parent / "server.log"
    args = ["serve", "--port", str(port), "--max-audio-seconds", "20", "--workdir", str(workdir)]
    with running_emocast(args, f"http://127.0.0.1:{port}/", log_path, timeout_s=180) as url:
        yield url, str(workdir), log_path


@contextlib.contextmanager
def running_emocast(args: list[str], url: str, log_path, timeout_s: float):
    """Run ``python -m emocast ARGS`` (output to ``log_path``) until ``url`` answers 200; yield ``url``;
    stop it with SIGTERM afterwards. Fails the test with the log's tail when it exits or stays silent."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
               GRADIO_ANALYTICS_ENABLED="False", PYTHONUNBUFFERED="1")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "emocast", *args], cwd=REPO, env=env, stdout=log,
                                stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            pytest.fail(f"emocast {args[0]} exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"emocast {args[0]} did not answer on {url} within {timeout_s:g} s:\n{log_path.read_text()[-3000:]}")
        time.sleep(0.3)
    try:
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

@pytest.fixture(scope="module")
def page(server):
    """A Playwright page in headless Chromium, opened on the server's page."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install playwright); see .ci/install-browser.sh")
    exe = _chromium()
    url, _, _ = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        pg.set_default_timeout(60_000)
        pg.goto(url)
        pg.locator("#render").wait_for()
        yield pg
        browser.close()


def _expected_seconds(text: str) -> float:
    from emocast.speech.tts import synthesize

    tts = synthesize(text)
    return len(tts.audio) / tts.sr


def _toast_text(page) -> str:
    return " | ".join(page.locator('[data-testid="toast-body"]').all_inner_texts())


def test_render_in_the_browser(page, server, astronaut_png, tmp_path):
    from emocast.media import read_video

    url, workdir, log_path = server
    page.locator("#portrait input[type=file]").set_input_files(astronaut_png)
    page.locator("#speech-text textarea").fill(TEXT)
    page.locator("#emotion textarea").fill(EMOTION)
    # the read-out follows the typing: "a little scared" is read as fear
    page.locator("#readout .emo-head").filter(has_text="fear").wait_for()
    readout = page.locator("#readout").inner_text()
    assert "intensity" in readout
    # 384 px is the smallest size offered at which the astronaut's face is wide enough to animate
    page.locator("#size").get_by_text(str(SIZE), exact=True).click()
    # the detected face is drawn as soon as the portrait is in
    page.locator("#face img").wait_for()
    assert "astronaut.png: face found" in page.locator("#face-status").inner_text()

    t0 = time.monotonic()
    page.locator("#render").click()
    # a progress bar fed by the generator's progress callback shows while it renders
    progress_seen = True
    try:
        page.locator("#result").get_by_text(re.compile(r"frame \d+/\d+")).first.wait_for(timeout=120_000)
        page.screenshot(path=str(tmp_path / "serve-rendering.png"), full_page=True)
    except Exception:
        progress_seen = bool(page.locator("#result video").count())  # finished before we looked
    video = page.locator("#result video")
    page.locator('#result video, [data-testid="toast-body"]').first.wait_for(timeout=300_000)
    if not video.count():
        page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
        raise AssertionError(f"the page showed an error instead of a video: {_toast_text(page)!r}; "
                             f"server log:\n{log_path.read_text()[-3000:]}")
    render_s = time.monotonic() - t0
    page.locator("#summary").filter(has_text="rendered in").wait_for()
    summary = page.locator("#summary").inner_text()
    shot = tmp_path / "serve-after-render.png"
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("EMOCAST_SCREENSHOT_DIR"):
        os.makedirs(os.environ["EMOCAST_SCREENSHOT_DIR"], exist_ok=True)
        for png in tmp_path.glob("serve-*.png"):
            shutil.copy(png, os.environ["EMOCAST_SCREENSHOT_DIR"])

    # the browser can play it
    playable = page.evaluate("""async () => {
        const v = document.querySelector('#result video');
        if (v.readyState < 1) await new Promise(r => v.addEventListener('loadedmetadata', r, {once: true}));
        return {duration: v.duration, w: v.videoWidth, h: v.videoHeight, error: v.error && v.error.code};
    }""")
    assert playable["error"] is None and max(playable["w"], playable["h"]) == SIZE, playable

    # the file behind it (what the download button saves) decodes to the right length
    src = video.get_attribute("src")
    path = tmp_path / "downloaded.mp4"
    path.write_bytes(page.request.get(src).body())
    frames, fps, audio = read_video(str(path))
    expected = _expected_seconds(TEXT)
    assert frames.shape[1:] == (SIZE, SIZE, 3)  # the astronaut portrait is square
    assert abs(len(frames) / fps - expected) <= 0.08 + 1 / fps, (len(frames), fps, expected)
    assert audio is not None and abs(len(audio) / 16000 - expected) < 0.15
    assert abs(playable["duration"] - expected) < 0.2
    assert f"{SIZE}×{SIZE} px" in summary and "fear" in summary
    assert not _toast_text(page)
    assert progress_seen, "no progress bar was shown while rendering"
    # the request's own folder is gone once the video is in the page
    assert os.listdir(os.path.join(workdir, "requests")) == []
    print(f"\nrendered {expected:.2f} s at {SIZE} px through the page in {render_s:.1f} s; screenshot {shot}")


def test_no_face_shows_the_error_in_the_page(page, server, gradient_png):
    from emocast.errors import InputError
    from emocast.face import analyse
    from emocast.media import load_image

    with pytest.raises(InputError) as e:  # what the CLI would print for this picture
        analyse(load_image(gradient_png), path="gradient.png")
    expected = str(e.value)
    page.locator("#portrait input[type=file]").set_input_files(gradient_png)
    page.locator("#face-status").filter(has_text=expected).wait_for()  # shown on upload
    page.locator("#speech-text textarea").fill("Hello.")
    page.locator("#render").click()
    toast = page.locator('[data-testid="toast-body"]').filter(has_text=expected)
    toast.wait_for(timeout=120_000)
    text = toast.inner_text()
    assert expected in text and "Traceback" not in text and "/tmp" not in text

