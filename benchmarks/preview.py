"""What the live page costs a run: seconds per iteration at 256 px without --preview, with the page's
server alone, and with the page open in headless Chromium (refreshing its picture and plot).

    python benchmarks/preview.py [--runs 4] [--size 256] [--iterations 60] [--modes none,server,page]

    python benchmarks/preview.py --screenshot FILE [--size 384]

Modes: none (no --preview), server (--preview, nobody connected), events (a client reading the
event stream), images (a client fetching the picture 4 times a second), page (Chromium).

Each run is a whole `stylize` process (tubingen + starry_night from ../shared, else the samples),
`--scales 1`, a fixed iteration count; its time is the optimisation's own (the --log line's
seconds, network loading excluded) over its iterations. One headless Chromium serves every
`page` run (its start-up is not the page's cost): it opens each run's page when the run prints
its address and goes back to a blank page after. Modes alternate run by run, so that a
machine that drifts drifts for all of them; the report gives each mode's median, min and max, and
the ratio of medians against `none` measured in the same session. The browser runs on the same
cores as the run, as it would on a laptop.

--screenshot: the picture of the page in docs/guides/live-preview.md. A real run (the samples chelsea.jpg and
swirls.jpg); after 30 iterations the style-weight
slider is moved (through the page, as a user would) to 50, and 20 iterations later the page is
photographed.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from common import SAMPLES, SHARED
from PIL import Image

ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore"}


def inputs() -> tuple[Path, Path]:
    shared = SHARED / "images"
    if (shared / "tubingen.jpg").is_file():
        return shared / "tubingen.jpg", shared / "starry_night.jpg"
    return SAMPLES / "chelsea.jpg", SAMPLES / "swirls.jpg"


def open_browser() -> Any:
    """Headless Chromium (as in tests/test_preview_browser.py), started once: its start-up is not the page's cost."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver") or "chromedriver"))
    driver.get("about:blank")
    return driver


def read_events(url: str, child: subprocess.Popen[bytes]) -> None:
    """A client of the event stream alone (what the page's script receives, without a browser)."""
    base, token = url.split("/?token=")
    with contextlib.suppress(OSError), urllib.request.urlopen(f"{base}/events?token={token}") as stream:
        for _ in stream:
            if child.poll() is not None:
                return


def fetch_images(url: str, child: subprocess.Popen[bytes]) -> None:
    """A client fetching the current picture 4 times a second (as often as the page may)."""
    base, token = url.split("/?token=")
    with contextlib.suppress(OSError):
        while child.poll() is None:
            with urllib.request.urlopen(f"{base}/image/current?token={token}") as answer:
                answer.read()
            time.sleep(0.25)


CLIENTS = {"events": read_events, "images": fetch_images}


def one_run(mode: str, size: int, iterations: int, folder: Path, browser: Any) -> tuple[float, int]:
    """(seconds per iteration, pictures the page loaded) of one run in `mode` (page: shown in `browser`)."""
    content, style = inputs()
    log = folder / f"{mode}-{time.monotonic_ns()}.jsonl"
    command = [sys.executable, "-m", "stylize", str(content), str(style), "-o", str(folder / "out.png"), "--size",
               str(size), "--scales", "1", "--iterations", str(iterations), "--progress", "lines", "--log", str(log),
               *(["--preview", "0"] if mode != "none" else [])]  # fmt: skip
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT)
    assert child.stderr is not None
    loaded = 0
    try:
        if mode != "none":
            line = child.stderr.readline().decode()
            found = re.search(r"live preview at (http://\S+)", line)
            assert found, line
            if mode == "page":
                browser.get(found.group(1))
            elif mode in ("events", "images"):
                threading.Thread(target=CLIENTS[mode], args=(found.group(1), child), daemon=True).start()
        child.wait(timeout=1800)
        if mode == "page":
            loaded = int(browser.execute_script("return document.body.dataset.images || 0"))
            browser.get("about:blank")
    finally:
        child.stderr.close()
    assert child.returncode == 0, f"{mode}: exit {child.returncode}"
    record = json.loads(log.read_text().splitlines()[-1])
    return record["seconds"] / record["iterations"], loaded


def screenshot(path: Path, size: int) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    content, style = SAMPLES / "chelsea.jpg", SAMPLES / "swirls.jpg"  # the repository's own pictures
    with tempfile.TemporaryDirectory() as folder:
        command = [sys.executable, "-m", "stylize", str(content), str(style), "-o", f"{folder}/out.png",
                   "--size", str(size), "--scales", "1", "--iterations", "300", "--progress", "none",
                   "--preview", "0"]  # fmt: skip
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT)
        assert child.stderr is not None
        found = re.search(r"live preview at (http://\S+)", child.stderr.readline().decode())
        assert found
        browser = open_browser()
        try:
            browser.get(found.group(1))
            points = lambda: len(browser.execute_script("return history"))  # noqa: E731
            while points() < 30:
                time.sleep(0.2)
            number = browser.find_element(By.ID, "number-style")
            number.click()  # with the focus on it, the page's updates leave the box alone
            number.send_keys(Keys.CONTROL, "a")
            number.send_keys("50", Keys.TAB)  # leaving the box sends it, as releasing the slider does
            while points() < 50:
                time.sleep(0.2)
            time.sleep(1)
            shot = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
            shot.save(path, quality=88) if path.suffix.lower() in (".jpg", ".jpeg") else shot.save(path)
            print(f"wrote {path}")
        finally:
            browser.quit()
            child.kill()
            child.communicate()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--modes", default="none,server,page")
    parser.add_argument("--screenshot", type=Path, default=None)
    args = parser.parse_args()
    if args.screenshot is not None:
        screenshot(args.screenshot, 384 if args.size == 256 else args.size)
        return
    modes = args.modes.split(",")
    times: dict[str, list[float]] = {mode: [] for mode in modes}
    browser = open_browser() if "page" in modes else None
    try:
        with tempfile.TemporaryDirectory() as folder:
            one_run("none", args.size, 5, Path(folder), browser)  # warm the caches (weights file, bytecode)
            for run in range(args.runs):
                for mode in modes if run % 2 == 0 else reversed(modes):
                    seconds, loaded = one_run(mode, args.size, args.iterations, Path(folder), browser)
                    times[mode].append(seconds)
                    shown = f", page loaded {loaded} pictures" if mode == "page" else ""
                    print(f"run {run + 1} {mode:6s}: {seconds:.4f} s/iteration{shown}", flush=True)
    finally:
        if browser is not None:
            browser.quit()
    base = statistics.median(times[modes[0]])
    print(f"\n{args.size} px, {args.iterations} iterations, {args.runs} runs per mode (median [min, max] s/iteration):")
    for mode in modes:
        values = times[mode]
        median = statistics.median(values)
        print(f"  {mode:6s}: {median:.4f} [{min(values):.4f}, {max(values):.4f}]  x{median / base:.3f} of {modes[0]}")


if __name__ == "__main__":
    main()
