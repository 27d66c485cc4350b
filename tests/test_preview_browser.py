"""--preview in a real browser: headless Chromium (Debian's chromium + chromium-driver) driven by selenium.

A real run with the bundled network: the page shows the picture and the plot, its slider steers
the style weight (the run reports the new weight and the style loss falls faster), the token is
needed, and a page closed mid-run costs the run nothing. Skipped where Chromium is absent; CI has
it (`.ci/run` installs it), and there a missing browser fails instead. The screenshot is kept in
$STYLIZE_ARTIFACTS (default build/test-artifacts/).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import read_stderr_until

from stylize.io.metadata import read_metadata

pytestmark = pytest.mark.slow  # a browser and the real network
ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ARTIFACTS = Path(os.environ.get("STYLIZE_ARTIFACTS", ROOT / "build" / "test-artifacts"))
CHROMIUM, DRIVER = shutil.which("chromium"), shutil.which("chromedriver")
ENVIRONMENT = {**os.environ, "PYTHONWARNINGS": "ignore"}
STYLE = 4  # where the style loss is in a loss point of the page's history


def _browser_missing() -> str | None:
    try:
        import selenium  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as err:
        return f"{err.name} is not installed (pip install -e '.[dev]')"
    if not CHROMIUM or not DRIVER:
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    return None


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"CI must test the live page in a real browser: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(str(DRIVER)))
    yield driver
    driver.quit()


@pytest.fixture
def started(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], str]]]:
    processes: list[subprocess.Popen[bytes]] = []

    def start(*extra: str) -> tuple[subprocess.Popen[bytes], str]:
        command = [sys.executable, "-m", "stylize", str(SAMPLES / "chelsea.jpg"), str(SAMPLES / "swirls.jpg"), "-o",
                   str(tmp_path / "out.png"), "--size", "128", "--scales", "1", "--progress", "lines",
                   "--preview", "0", *extra]  # fmt: skip
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENVIRONMENT)
        processes.append(process)
        found = re.search(rb"live preview at (http://\S+)", read_stderr_until(process, rb"live preview at http://\S+"))
        assert found
        return process, found.group(1).decode()

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate()


def wait_for(condition: Callable[[], Any], what: str, seconds: float = 120) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"the page never showed {what}")


def reported(text: str) -> float | None:
    """A weight as the page shows it (None for the dash shown before the run reported one)."""
    try:
        return float(text)
    except ValueError:
        return None


def page_history(driver: Any) -> list[list[float]]:
    return driver.execute_script("return history")  # type: ignore[no-any-return]


def test_the_page_shows_the_run_and_its_slider_steers_the_style_weight(
    browser: Any, started: Callable[..., tuple[subprocess.Popen[bytes], str]], tmp_path: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    process, url = started("--iterations", "500")
    browser.get(url)
    find = lambda id_: browser.find_element(By.ID, id_)  # noqa: E731
    wait_for(lambda: int(browser.execute_script("return document.body.dataset.images || 0")) >= 2, "the picture")
    wait_for(lambda: len(page_history(browser)) >= 30, "30 loss points in the plot")
    find("pause").click()
    wait_for(lambda: find("status").text == "paused", "the run paused")
    assert browser.execute_script("return document.getElementById('current').naturalWidth") == 128
    assert find("reported-style").text == "5"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "preview-page.png"))
    number = find("number-style")  # a value the CLI would refuse: refused on the page, the run unharmed
    number.click()  # while the box has the focus, the page's updates leave it alone
    number.send_keys(Keys.CONTROL, "a")
    number.send_keys("-1", Keys.TAB)  # leaving the box sends it
    wait_for(lambda: "must be a finite number >= 0" in find("message").text, "the refusal")
    assert "error" in find("message").get_attribute("class") and process.poll() is None
    before = page_history(browser)
    slider = find("slider-style")
    ActionChains(browser).move_to_element_with_offset(slider, slider.size["width"] // 3, 0).click().perform()
    asked = float(find("number-style").get_attribute("value"))
    assert 30 < asked < 300, asked  # a third of its width right of its centre (1): about 1e2
    wait_for(lambda: "style weight set to" in find("message").text, "the run's answer")
    find("pause").click()  # now "resume"
    wait_for(lambda: reported(find("reported-style").text) == pytest.approx(asked, rel=0.01), "the run's new weight")
    paused_at = len(before)
    after = wait_for(lambda: (h := page_history(browser)) and len(h) >= paused_at + 10 and h, "10 more points")
    find("stop").click()
    assert process.wait(timeout=120) == 0
    # The run's own record: the weight it used from the next iteration on, and the style loss falling
    # faster after the change than over as many iterations before it.
    steered = read_metadata(tmp_path / "out.png")["steered"]
    assert [(c["weight"], c["value"]) for c in steered] == [("style", asked)]
    k = 10
    fall_before = math.log(before[paused_at - 1 - k][STYLE] / before[paused_at - 1][STYLE])
    fall_after = math.log(after[paused_at - 1][STYLE] / after[paused_at - 1 + k][STYLE])
    assert fall_after > 2 * fall_before, (fall_before, fall_after)


def test_the_page_needs_the_token(browser: Any, started: Callable[..., tuple[subprocess.Popen[bytes], str]]) -> None:
    from selenium.webdriver.common.by import By

    process, url = started("--iterations", "300")
    base = url.split("?")[0]
    for address in (base, base + "?token=guess", base + "events", base + "image/current"):
        browser.get(address)
        assert "403" in browser.find_element(By.TAG_NAME, "body").text
    process.terminate()


def test_a_page_closed_mid_run_does_not_stop_the_run(
    browser: Any, started: Callable[..., tuple[subprocess.Popen[bytes], str]], tmp_path: Path
) -> None:
    process, url = started("--iterations", "40")
    browser.get(url)
    wait_for(lambda: len(page_history(browser)) >= 3, "loss points")
    browser.close()  # the tab goes away while the run works
    assert process.wait(timeout=300) == 0
    assert read_metadata(tmp_path / "out.png")["iterations_done"] == 40
