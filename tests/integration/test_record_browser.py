"""Recording from the browser (issue 11): chromium's fake microphone, fed from a known WAV
file, records 4 bars into an audio track at bar 3 with a one-bar count-in and the click,
while the newest version plays; the take is found in the project as FLAC at the song's rate,
correlating above 0.99 with the source, placed at the bar less the stored latency (stored
by a calibration from a simulated loopback: a fake device has no output-to-input path).
A screenshot of the record panel goes to ``test-artifacts/record/``.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from playwright.sync_api import Browser, Page, expect

from browsers import AUTOPLAY, chromium, screenshot, wait_true
from mixdown import load
from mixdown.services import review
from mixdown.services.record.latency import probe
from mixdown.services.render import render_audio
from web_songs import make_song, running_server

TIMEOUT_MS = 120_000
SR = 48_000
LATENCY_FRAMES = 517  # the simulated loopback's delay


def source_signal(seconds: float = 3.0) -> np.ndarray:
    """The fake microphone's file: seeded noise band-limited to 60 Hz .. 6 kHz, as a voice
    is (chromium's capture path low-passes near Nyquist), which correlates with itself at one
    lag only, even looped."""
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(11)
    x = sosfilt(butter(6, [60, 6000], "bandpass", fs=SR, output="sos"),
                rng.standard_normal(round(seconds * SR)))
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def align_looped(rec: np.ndarray, src: np.ndarray, window: int = 4800
                 ) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The source as the fake device played it into ``rec``: the file looped, each pass
    found by circular cross-correlation (window by window), and the frame where each pass
    begins found by least squares. Returns the aligned source and the passes as
    (first frame in ``rec``, lag into ``src``)."""
    n = len(src)
    spec = np.fft.rfft(src)

    def lag_at(w0: int) -> int:
        seg = np.zeros(n)
        seg[:window] = rec[w0:w0 + window]
        return (int(np.argmax(np.fft.irfft(np.conj(np.fft.rfft(seg)) * spec, n))) - w0) % n

    def ref(lag: int, a: int, b: int) -> np.ndarray:
        return src[(np.arange(a, b) + lag) % n]

    lags = [lag_at(w0) for w0 in range(0, len(rec) - window + 1, window)]
    passes = [(0, lags[0])]
    for k in range(1, len(lags)):
        if lags[k] == passes[-1][1] or (k + 1 < len(lags) and lags[k + 1] == passes[-1][1]):
            continue
        # the jump is in window k - 1 or k: the split that fits both lags best
        a, b = (k - 1) * window, (k + 1) * window
        before = (rec[a:b] - ref(passes[-1][1], a, b)) ** 2
        after = (rec[a:b] - ref(lags[k], a, b)) ** 2
        cost = np.concatenate([[0], np.cumsum(before)]) + np.concatenate(
            [np.cumsum(after[::-1])[::-1], [0]])
        passes.append((a + int(np.argmin(cost)), lags[k]))
    out = np.empty(len(rec))
    for (start, lag), (end, _) in itertools.pairwise([*passes, (len(rec), 0)]):
        out[start:end] = ref(lag, start, end)
    return out, passes


@pytest.fixture(scope="module")
def mic_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mic") / "mic.wav"
    sf.write(str(path), source_signal(), SR, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def browser(mic_file: Path) -> Iterator[Browser]:
    with chromium(AUTOPLAY, "--use-fake-device-for-media-stream",
                  "--use-fake-ui-for-media-stream",
                  f"--use-file-for-fake-audio-capture={mic_file}") as b:
        yield b


def _wait(page: Page, expression: str) -> None:
    wait_true(page, expression, TIMEOUT_MS)


def _wav(audio: np.ndarray) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, SR, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def test_record_four_bars_from_the_fake_microphone(tmp_path: Path, browser: Browser,
                                                  mic_file: Path) -> None:
    songs = tmp_path / "songs"
    song = make_song(songs, "tune", title="Take <One>", tempo=120, bars=9)  # 8 bars of 2 s
    with (song / "song.toml").open("a") as f:
        f.write('\n[[track]]\nname = "Vocal"   # the singer\n')
    with review.open_studio(songs) as studio:
        review.render_version(studio, "tune", "backing")  # what plays while recording
    with running_server(songs, env={"MIXDOWN_SECRET": ""}) as url:
        page = browser.new_context().new_page()
        page.set_default_timeout(TIMEOUT_MS)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url.rstrip('/')}/songs/tune")
        page.click("#record-link")
        expect(page.locator("h1")).to_have_text("Record into Take <One>")

        # a simulated loopback calibration for the fake device: the probe, 517 frames late
        loop = np.zeros(SR * 3 // 2, np.float32)
        p = probe(SR)
        loop[LATENCY_FRAMES:LATENCY_FRAMES + len(p)] = 0.5 * p
        stored = page.evaluate(
            """async (bytes) => {
                const r = await fetch('/record/calibrate?device=Fake%20Default%20Audio%20Input',
                  {method: 'POST', body: new Uint8Array(bytes),
                   headers: {'X-CSRF-Token': document.body.dataset.csrf}});
                return await r.json();
            }""", list(_wav(loop)))
        assert stored["latency_s"] == pytest.approx(LATENCY_FRAMES / SR, abs=1e-6), stored
        latency = stored["latency_s"]

        page.select_option("#record-track", "Vocal")
        page.fill("#record-bar", "3")
        page.fill("#record-count-in", "1")
        page.fill("#record-bars", "4")
        page.click("#record-button")
        _wait(page, "document.getElementById('record-status').dataset.state === 'recording'")
        screenshot(page, "record", "recording", selector="#record-panel")
        _wait(page, "['done', 'error'].includes("
                    "document.getElementById('record-status').dataset.state)")
        status = page.locator("#record-status")
        assert status.get_attribute("data-state") == "done", status.inner_text()
        # the newest version played along, from one count-in bar before bar 3 (2 s)
        assert float(status.get_attribute("data-song-from") or "nan") == 2.0
        expect(page.locator("#latency-value")).to_have_text(
            f"{latency * 1000:.2f} ms on Fake Default Audio Input")
        screenshot(page, "record", "record-panel", selector="#record-panel")
        assert not errors, errors

    # the take in the project: placed at bar 3, its file's first 2 s (the count-in) and the
    # stored latency skipped
    project = load(song)
    take = project.track("Vocal").takes[0]
    assert take.start == "3:1" and take.file == "audio/vocal-take-1.flac"
    assert take.offset_s == pytest.approx(2.0 + latency, abs=1e-9)
    assert "# the singer" in (song / "song.toml").read_text()
    info = sf.info(str(song / take.file))
    assert (info.samplerate, info.format, info.channels) == (SR, "FLAC", 2)
    recorded, _ = sf.read(str(song / take.file), dtype="float64")
    mono = recorded[:, 0]
    assert len(mono) == 10 * SR  # the count-in bar and 4 bars, to the frame

    # the recording is the source, looped by the fake device (which drops a few frames at
    # each loop point): align each pass by cross-correlation, then correlate the whole take
    src = source_signal().astype(np.float64)
    aligned, passes = align_looped(mono, src)
    r = float(np.corrcoef(mono, aligned)[0, 1])
    print(f"fake microphone: passes (first frame, offset into the file) {passes}, r = {r:.5f}")
    assert r > 0.99
    # whole passes of the file (a loaded machine may drop a 10 ms chunk), not a patchwork
    starts = [p[0] for p in passes] + [len(mono)]
    assert min(b - a for a, b in itertools.pairwise(starts)) >= SR // 10

    # and it renders there: the song (the Vocal alone) at bar 3 plays the file from
    # pre-roll + latency on
    vocal_only = project.model_copy(update={"tracks": (project.track("Vocal"),)})
    audio, sr = render_audio(vocal_only, root=song)
    assert sr == SR
    k = round(take.offset_s * SR)
    bar3 = 4 * SR
    np.testing.assert_allclose(audio[0, bar3:bar3 + 4 * SR], mono[k:k + 4 * SR], atol=1e-6)
