"""The leaderboard page renders in a real browser (headless Chromium): slow, needs the Debian package."""

import shutil
import subprocess

import pytest

pytestmark = pytest.mark.slow

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(BROWSER is None, reason="chromium is not installed (apt-get install chromium)")
def test_leaderboard_page_screenshot(tiny_root, tmp_path, monkeypatch):
    import matplotlib.image as mpimg
    import numpy as np

    from harness.app.cli import main

    monkeypatch.setenv("HARNESS_DATA", str(tiny_root))
    runs = tmp_path / "runs"
    args = ["eval", "--model", "hash,hash:16", "--langs", "de,fr", "--results-dir", str(runs), "--no-progress"]
    assert main(args) == 0
    assert main(["leaderboard", "--results-dir", str(runs), "--out", str(tmp_path)]) == 0
    shot = tmp_path / "shot.png"
    proc = subprocess.run([BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--screenshot={shot}", "--window-size=1400,2400",
                           (tmp_path / "leaderboard.html").as_uri()], capture_output=True, text=True, timeout=120)
    assert shot.is_file(), proc.stderr[-2000:]
    image = mpimg.imread(shot)
    assert image.shape[0] == 2400 and image.shape[1] == 1400
    ink = (image[..., :3].mean(axis=2) < 0.5).mean()  # share of dark pixels: text, table rules, plot lines
    assert ink > 0.005, "the page rendered (nearly) blank"
    colour = np.abs(image[..., 0] - image[..., 2]).max()
    assert colour > 0.3, "no coloured plot pixels: the embedded PNG plots did not render"
