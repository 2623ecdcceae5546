"""The corpus browser in a real browser: ``posegraph ui`` serves the synthetic store, Chromium
(Debian's ``chromium`` and ``chromium-driver``, driven by Selenium) opens it; the test waits for the
videos table and a chart, then opens one video's page and waits for its overlay and charts, and
keeps screenshots (``test-artifacts/ui-videos.png``, ``ui-video.png``; ``POSEGRAPH_TEST_ARTIFACTS``
moves them; the README's picture is one of them)."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.flows.browser import NEEDS_BROWSER, free_port, headless_chromium

ARTIFACTS = Path(os.environ.get("POSEGRAPH_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
pytestmark = [pytest.mark.slow, *NEEDS_BROWSER]


@pytest.fixture
def ui_server(synthetic_store, tmp_path):
    port = free_port()
    environment = {**os.environ, "HOME": str(tmp_path)}  # Streamlit's own files go there, not to the user's home
    process = subprocess.Popen([sys.executable, "-m", "posegraph.flows.cli", "ui", "--store", str(synthetic_store.root),
                                "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=environment, start_new_session=True)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if process.poll() is not None:
            pytest.fail(f"posegraph ui exited: {process.stdout.read()}")
        time.sleep(0.3)
    else:
        os.killpg(process.pid, 9)
        pytest.fail("posegraph ui did not start within 90 s")
    yield f"http://127.0.0.1:{port}/"
    os.killpg(process.pid, 15)
    process.wait(timeout=30)


def test_the_browser_shows_the_videos_table_a_chart_and_one_video(ui_server):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser = headless_chromium("1400,1000")  # nothing beyond localhost: the app works offline
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        browser.get(ui_server)
        found = lambda selector: browser.find_elements(By.CSS_SELECTOR, selector)  # noqa: E731
        WebDriverWait(browser, 90).until(lambda _: found('[data-testid="stDataFrame"]'))
        WebDriverWait(browser, 60).until(lambda _: found('[data-testid="stVegaLiteChart"] canvas, '
                                                         '[data-testid="stVegaLiteChart"] svg'))
        assert "72 videos" in browser.find_element(By.TAG_NAME, "body").text
        time.sleep(1.0)  # the charts' first frame drawn
        browser.save_screenshot(str(ARTIFACTS / "ui-videos.png"))
        browser.find_element(By.XPATH, "//button[.//p[text()='open']]").click()
        WebDriverWait(browser, 120).until(lambda _: found("video"))
        WebDriverWait(browser, 60).until(lambda _: found('[data-testid="stVegaLiteChart"] canvas, '
                                                         '[data-testid="stVegaLiteChart"] svg'))
        time.sleep(1.0)
        browser.save_screenshot(str(ARTIFACTS / "ui-video.png"))
        source = browser.find_element(By.TAG_NAME, "video").get_attribute("src")
        assert source.startswith(ui_server) or source.startswith("/") or source.startswith("blob:")
    finally:
        browser.quit()
    assert (ARTIFACTS / "ui-videos.png").stat().st_size > 10_000
