"""Headless Chromium through Selenium, offline: Debian's chromium and chromium-driver, no browser download.

`browser()` returns a driver, or raises `NoBrowser` saying what is missing, so a test can skip with the
reason (never pass silently)."""

from __future__ import annotations

import shutil

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


class NoBrowser(Exception):
    """Chromium, its driver or Selenium is not installed here."""


def browser(width: int = 1400, height: int = 1000):
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError as err:
        raise NoBrowser(f"selenium is not installed ({err}); `python -m pip install selenium`") from None
    binary = next((path for path in map(shutil.which, CHROMIUM) if path), None)
    driver = shutil.which("chromedriver")
    if binary is None or driver is None:
        raise NoBrowser("chromium or chromedriver is not installed (Debian: apt-get install chromium chromium-driver)")
    options = Options()
    for flag in [*FLAGS, f"--window-size={width},{height}"]:
        options.add_argument(flag)
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver), options=options)
