#!/usr/bin/env python3
"""Drives the scan-serve page in a real browser (Debian's chromium + chromium-driver, via selenium).

    python3 Tools/browser_test.py --url http://127.0.0.1:PORT --screenshot OUT.png

Types a query, submits it with Enter, checks that the results render with captions and loaded
pictures, follows a result's link, goes back (the ?q= URL round trip), opens a ?q= URL directly,
checks the error state and the keyboard shortcut, and saves a screenshot of the results. Exits
non-zero on the first failed check.
"""
import argparse
import os
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.support.ui import WebDriverWait


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("  ok:", what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--query", default="a dog on a beach")
    a = ap.parse_args()
    base = a.url.rstrip("/")
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"

    opts = webdriver.ChromeOptions()
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server",
                 "--window-size=1280,1000", "--disable-extensions", "--disable-background-networking"]:
        opts.add_argument(flag)
    for path in ["/usr/bin/chromium", "/usr/bin/chromium-browser"]:
        if os.path.exists(path):
            opts.binary_location = path
            break
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=opts)
    wait = WebDriverWait(driver, 20)
    try:
        driver.get(base + "/")
        wait.until(lambda d: "Type a description" in d.find_element(By.ID, "status").text)
        check(driver.title == "SCAN search", "the page loads")
        notice = driver.find_element(By.ID, "notice")
        check(notice.is_displayed() and "Synthetic" in notice.text, "the page says the world is synthetic: " + notice.text[:60])

        box = driver.find_element(By.ID, "q")
        check(driver.switch_to.active_element == box, "the search box has the focus")
        box.send_keys(a.query)
        box.send_keys(Keys.ENTER)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li.result")) > 0)
        results = driver.find_elements(By.CSS_SELECTOR, "#results li.result")
        check(len(results) == 10, "10 results rendered")
        q = urllib.parse.urlparse(driver.current_url)
        check(urllib.parse.parse_qs(q.query).get("q") == [a.query], "the query is in the URL: " + driver.current_url)
        status = driver.find_element(By.ID, "status").text
        check("results for" in status, "status: " + status)
        for r in results:
            check(len(r.find_elements(By.CSS_SELECTOR, ".captions li")) == 5, "result has 5 captions")
        # Pictures: served by scan-serve from --image-dir, decoded by the browser.
        wait.until(lambda d: all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)
                                 for img in d.find_elements(By.CSS_SELECTOR, "#results img")))
        srcs = [img.get_attribute("src") for img in driver.find_elements(By.CSS_SELECTOR, "#results img")]
        check(all("/images/" in s and s.endswith(".svg") for s in srcs), "every result shows its picture (%s, ...)" % srcs[0])
        first_id = results[0].find_element(By.CSS_SELECTOR, ".id").text
        first_caption = results[0].find_element(By.CSS_SELECTOR, ".captions li").text
        print("  first result: id %s, %r" % (first_id, first_caption))
        driver.save_screenshot(a.screenshot)
        print("screenshot:", os.path.abspath(a.screenshot))

        # Follow the first result's link: the image's own view, in the URL too.
        results[0].find_element(By.CSS_SELECTOR, "a.open").click()
        wait.until(lambda d: d.find_element(By.ID, "detail").is_displayed() and d.find_element(By.ID, "detail-id").text == first_id)
        check(urllib.parse.parse_qs(urllib.parse.urlparse(driver.current_url).query).get("id") == [first_id], "the result's link: " + driver.current_url)
        check(len(driver.find_elements(By.CSS_SELECTOR, "#detail-captions li")) == 5, "the image view lists its captions")
        # Back: the results of the same query again.
        driver.back()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li.result")) == 10 and d.find_element(By.ID, "results").is_displayed())
        check("id=" not in driver.current_url and driver.find_element(By.ID, "q").get_attribute("value") == a.query,
              "back restores the results and the query")
        check(driver.find_element(By.CSS_SELECTOR, "#results li.result .id").text == first_id, "same first result after back")

        # A linked ?q= URL renders its results directly.
        other = "a red car on the street"
        driver.get(base + "/?" + urllib.parse.urlencode({"q": other}))
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#results li.result")) > 0)
        check(driver.find_element(By.ID, "q").get_attribute("value") == other, "?q= fills the box and searches")

        # Keyboard: '/' focuses the search box from anywhere.
        driver.find_element(By.TAG_NAME, "body").click()
        ActionChains(driver).send_keys("/").perform()
        check(driver.switch_to.active_element == driver.find_element(By.ID, "q"), "'/' focuses the search box")

        # Error state: a bad parameter in the URL is shown, not swallowed.
        driver.get(base + "/?q=dog&top=0")
        wait.until(lambda d: "error" in (d.find_element(By.ID, "status").get_attribute("class") or ""))
        err = driver.find_element(By.ID, "status")
        check("top" in err.text and err.get_attribute("role") == "alert", "error state: " + err.text)
        check(len(driver.find_elements(By.CSS_SELECTOR, "#results li.result")) == 0, "no results under an error")
        # An empty query typed in the box: an error too.
        box = driver.find_element(By.ID, "q")
        box.clear()
        box.send_keys("   ", Keys.ENTER)
        wait.until(lambda d: "empty query" in d.find_element(By.ID, "status").text)
        check(True, "empty query error: " + driver.find_element(By.ID, "status").text)
        driver.save_screenshot(os.path.splitext(a.screenshot)[0] + "-error.png")
        print("screenshot:", os.path.abspath(os.path.splitext(a.screenshot)[0] + "-error.png"))
    finally:
        driver.quit()
    print("browser test passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("browser test FAILED:", e, file=sys.stderr)
        sys.exit(1)
