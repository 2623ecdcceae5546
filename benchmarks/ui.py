"""The corpus browser at corpus size (issue 28): a 10,000-video store of 1,000,000 frames.

Run:  .venv/bin/python benchmarks/ui.py [--videos 10000] [--frames 100] [--work /tmp/posegraph-ui]

1. The store (OpenPose-18 synthetic clips, ``benchmarks/loader.py``'s writer), written once and reused.
2. The Videos page, run by Streamlit's AppTest in this process with nothing cached: seconds until
   the table and its two charts are made (the server's share of "appears").
3. The same in a real browser (Chromium, when installed): ``posegraph ui`` started, the page opened,
   seconds until the table and a drawn chart are on screen: a new browser on the just-started
   server, the same browser again, and a new browser (empty browser cache) on the warm server.
4. The SQL box: an aggregate over every frame (mean visibility per label), seconds from the click
   to the result (AppTest), beside ``posegraph query``'s ``run_query`` alone.
Targets: 2 s for the table and a chart, 1 s for the aggregate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from loader import make_store  # noqa: E402  (one writer for the synthetic benchmark stores)

REPOSITORY = Path(__file__).resolve().parents[1]
AGGREGATE = ("SELECT v.label, count(*) AS frames, avg(list_avg(f.visibility)) AS mean_visibility "
             "FROM frames AS f JOIN videos AS v USING (video_id, layout) GROUP BY v.label ORDER BY v.label")


def apptest_seconds(store: Path) -> tuple[float, float]:
    """(Videos page, SQL aggregate) seconds through AppTest."""
    from streamlit.testing.v1 import AppTest

    os.environ["POSEGRAPH_UI_STORE"] = str(store)
    app = AppTest.from_file(str(REPOSITORY / "flows" / "ui_app.py"), default_timeout=300)
    start = time.perf_counter()
    app.run()
    page = time.perf_counter() - start
    assert not app.exception and len(app.dataframe[0].value) > 0, app.exception
    app.sidebar.radio(key="page").set_value("SQL").run()
    app.text_area(key="sql").input(AGGREGATE)
    start = time.perf_counter()
    app.button(key="run_sql").click().run()
    aggregate = time.perf_counter() - start
    assert not app.error, app.error[0].value if app.error else ""
    return page, aggregate


def browser_seconds(store: Path) -> tuple[float, float, float] | None:
    """Seconds until the table and a drawn chart show: a new browser on the just-started server, the
    same browser again, a new browser on the warm server; None without Chromium."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver:
        print("browser: skipped (no chromium / chromedriver: apt-get install chromium chromium-driver)")
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "posegraph.flows.cli", "ui", "--store", str(store), "--port",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(flag)
    browser = None
    try:
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", port)) != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        times = []
        for visit in range(3):  # a new browser, the same one again, a new browser on the warm server
            if visit != 1:
                if browser is not None:
                    browser.quit()
                browser = webdriver.Chrome(service=Service(driver), options=options)
            start = time.perf_counter()
            browser.get(f"http://127.0.0.1:{port}/")
            WebDriverWait(browser, 120, poll_frequency=0.05).until(
                lambda _: browser.find_elements(By.CSS_SELECTOR, '[data-testid="stDataFrame"]')
                and browser.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"] canvas, '
                                                           '[data-testid="stVegaLiteChart"] svg'))
            times.append(time.perf_counter() - start)
        return times[0], times[1], times[2]
    finally:
        if browser is not None:
            browser.quit()
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=int, default=10_000)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--work", type=Path, default=Path("/tmp/posegraph-ui"))
    arguments = parser.parse_args()
    root = arguments.work / "store"
    make_store(root, arguments.videos, arguments.frames)
    print(f"posegraph ui benchmark: {arguments.videos:,} videos x {arguments.frames} frames "
          f"= {arguments.videos * arguments.frames:,} frames, {os.cpu_count()} CPUs")
    from posegraph.data import SkeletonStore
    from posegraph.data.query import run_query

    start = time.perf_counter()
    result = run_query(SkeletonStore(root, create=False), AGGREGATE)
    alone = time.perf_counter() - start
    page, aggregate = apptest_seconds(root)
    print(f"videos page (AppTest, nothing cached): table + 2 charts in {page:.2f} s (target 2 s)")
    print(f"SQL box aggregate over {result['frames'].to_numpy().sum():,} frames: {aggregate:.2f} s from the click "
          f"(run_query alone {alone:.2f} s; target 1 s)")
    timings = browser_seconds(root)
    if timings:
        print(f"browser (Chromium): table + a drawn chart after {timings[0]:.2f} s (new browser, server just "
              f"started), {timings[1]:.2f} s (same browser again), {timings[2]:.2f} s (new browser, warm server); "
              f"target 2 s")


if __name__ == "__main__":
    main()
