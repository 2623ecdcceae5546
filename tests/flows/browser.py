"""What the real-browser tests share: Debian's Chromium and its driver (found or not), Selenium, a
free port, and a headless Chromium that cannot reach anything beyond this machine."""

from __future__ import annotations

import shutil
import socket

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
try:
    import selenium  # noqa: F401
except ImportError:
    selenium = None

NEEDS_BROWSER = [
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                       reason="no chromium/chromedriver here (apt-get install chromium chromium-driver)"),
    pytest.mark.skipif(selenium is None, reason="selenium is not installed (pip install -e '.[dev]')"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def headless_chromium(window: str, *flags: str):
    """A Selenium-driven headless Chromium; every fetch beyond localhost fails (a dead proxy)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", f"--window-size={window}",
                 "--proxy-server=127.0.0.1:9", *flags):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(DRIVER), options=options)
