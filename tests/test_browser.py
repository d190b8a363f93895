"""The report in a real browser (headless Chromium): sorting, filters, the student panel, the mining
explorer, no JavaScript errors, and no figure legend over a plot. Skipped, with the reason, where no
browser can be installed."""

import json
import shutil

import pytest

from harness.app.cli import main
from harness.results.plots import overlaps
from harness.results.store import safe_name
from tests.helpers.browser import NoBrowser, browser
from tests.records import edit_evidence

pytestmark = pytest.mark.process


@pytest.fixture(scope="module")
def page(tiny_root, tmp_path_factory):
    """The report of four hash models on the tiny data root: a teacher, a base, a student (two seeds), an
    ablation."""
    folder = tmp_path_factory.mktemp("report")
    runs = folder / "runs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HARNESS_DATA", str(tiny_root))
        for model, role in (("hash:64", "teacher"), ("hash:48", "base"), ("hash:16", "ablation")):
            assert main(["eval", "--model", model, "--role", role, "--results-dir", str(runs), "--no-progress"]) == 0
        assert main(["eval", "--model", "hash:24", "--role", "student", "--results-dir", str(runs),
                     "--no-progress"]) == 0
    student = runs / safe_name("hash:24")
    shutil.copytree(student, runs / "student-s")
    shutil.copytree(student, runs / "student-s-seed1")
    shutil.rmtree(student)
    for seed, folder_name in ((0, "student-s"), (1, "student-s-seed1")):
        for record_path in (runs / folder_name).rglob("*.json"):
            record = json.loads(record_path.read_text())
            record["model"].update(name=folder_name, base="hash:48", teacher="hash:64", seed=seed, trainer="distill")
            record_path.write_text(json.dumps(record))

    def lower_one_cosine(arrays):
        arrays["cosine"][0] -= 0.5

    edit_evidence(runs / "student-s-seed1" / "stsb-multi-mt" / "en-de.json", lower_one_cosine)
    assert main(["leaderboard", "--results-dir", str(runs), "--out", str(folder)]) == 0
    return folder / "leaderboard.html", runs


@pytest.fixture(scope="module")
def driver():
    try:
        instance = browser()
    except NoBrowser as why:
        pytest.skip(f"no browser: {why}")
    yield instance
    instance.quit()


def visible_values(driver, table_id: str, column: int) -> list[float]:
    return driver.execute_script(
        "const rows = Array.from(document.getElementById(arguments[0]).tBodies[0].rows)"
        ".filter(r => r.offsetParent !== null);"
        "return rows.map(r => r.cells[arguments[1]].getAttribute('data-value'))"
        ".filter(v => v !== '').map(Number);", table_id, column)


def test_clicking_a_header_sorts_the_rows(driver, page):
    driver.get(page[0].as_uri())
    headers = driver.find_elements("css selector", "#overview-main thead th")
    column = next(i for i, th in enumerate(headers) if th.get_attribute("data-lang") == "de")
    headers[column].click()
    descending = visible_values(driver, "overview-main", column)
    assert len(descending) >= 3 and descending == sorted(descending, reverse=True)
    headers[column].click()
    assert visible_values(driver, "overview-main", column) == sorted(descending)


def test_a_language_filter_hides_the_other_columns(driver, page):
    from selenium.webdriver.support.ui import Select

    driver.get(page[0].as_uri())
    Select(driver.find_element("id", "lang-filter")).select_by_value("de")
    headers = driver.find_elements("css selector", "#overview-main th[data-lang]")
    shown = [th.get_attribute("data-lang") for th in headers if th.is_displayed()]
    assert shown and set(shown) == {"de"}
    hidden = [th for th in driver.find_elements("css selector", "#overview-main th[data-lang='fr']")]
    assert hidden and not any(th.is_displayed() for th in hidden)


def test_a_role_filter_hides_rows(driver, page):
    driver.get(page[0].as_uri())
    driver.find_element("css selector", "input[name=role][value=student]").click()
    rows = driver.find_elements("css selector", "#overview-main tbody tr")
    assert [r.get_attribute("data-role") for r in rows if r.is_displayed()] == ["teacher", "base"]


def test_the_student_panel_shows_its_differences_from_its_base(driver, page):
    from selenium.webdriver.support.ui import Select

    html, runs = page
    driver.get(html.as_uri())
    Select(driver.find_element("id", "student-select")).select_by_value("student-s")
    panel = driver.find_element("css selector", ".student-panel[data-student='student-s']")
    assert panel.is_displayed()
    assert not driver.find_element("css selector", ".student-panel[data-student='hash:16']").is_displayed()
    # the known answer: seed mean of the student minus the base, from the records themselves
    def value(folder):
        return json.loads((runs / folder / "stsb-multi-mt" / "en-de.json").read_text())["metrics"]["spearman"]["value"]

    expected = (value("student-s") + value("student-s-seed1")) / 2 - value(safe_name("hash:48"))
    row = panel.find_element("xpath", ".//h3[contains(., 'base')]/following-sibling::table[1]//tr[td[1]='stsb-multi-mt'"
                                      " and td[2]='en-de']")
    shown = float(row.find_elements("tag name", "td")[4].get_attribute("data-value"))
    assert shown == pytest.approx(expected, abs=1e-3)


def test_the_mining_explorer_shows_the_worst_confusions(driver, page):
    from selenium.webdriver.support.ui import Select

    driver.get(page[0].as_uri())
    Select(driver.find_element("id", "ex-pair")).select_by_value("tatoeba|de-en")
    Select(driver.find_element("id", "ex-dir")).select_by_value("bwd")
    out = driver.find_element("id", "explorer-out")
    assert "outranks the gold" in out.text and out.find_elements("css selector", "svg rect")
    assert len(out.find_elements("css selector", "tbody tr")) >= 1


def test_the_gap_histogram_spans_the_gaps_not_minus_one_to_one(driver, page):
    """Issue 21, item 7: the bars fill the plot, the zero line sits between its ends, and they are labelled."""
    driver.get(page[0].as_uri())
    out = driver.find_element("id", "explorer-out")
    bars = out.find_elements("css selector", "svg rect")
    filled = [bar for bar in bars if float(bar.get_attribute("height")) > 0]
    assert len(filled) >= 5, "the gaps should spread over several bars, not one or two"
    zero = float(out.find_element("css selector", "svg line.zero-line").get_attribute("x1"))
    xs = [float(bar.get_attribute("x")) for bar in bars]
    assert min(xs) <= zero <= max(xs) + float(bars[-1].get_attribute("width"))
    labels = [text.text for text in out.find_elements("css selector", "svg text")]
    assert "0" in labels and labels != ["-1", "0", "+1"]


def test_no_javascript_errors_and_no_legend_over_a_plot(driver, page):
    driver.get(page[0].as_uri())
    driver.find_element("css selector", "input[name=view][value=all]").click()
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
    figures = driver.find_elements("css selector", "img.figure")
    assert figures
    for figure in figures:
        legend = json.loads(figure.get_attribute("data-legend"))
        axes = json.loads(figure.get_attribute("data-axes"))
        assert axes and not any(overlaps(legend, box) for box in axes)
        assert driver.execute_script("return arguments[0].naturalWidth", figure) > 0 or not figure.is_displayed()


def test_the_page_renders_with_text_and_colour(driver, page, tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    driver.get(page[0].as_uri())
    shot = tmp_path / "shot.png"
    driver.save_screenshot(str(shot))
    image = mpimg.imread(shot)
    assert image.shape[1] == 1400
    assert (image[..., :3].mean(axis=2) < 0.5).mean() > 0.005, "the page rendered (nearly) blank"
    assert np.abs(image[..., 0] - image[..., 2]).max() > 0.3, "no colour: the role badges or the figure are missing"
    width = driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= 1400, f"the overview scrolls sideways ({width} px)"


@pytest.fixture(scope="module")
def ablations_only(page, tmp_path_factory):
    """Only ablations (so no 'main' view), and one of them not run on fr: its fr cells are blank."""
    folder = tmp_path_factory.mktemp("ablations")
    runs = folder / "runs"
    for name in ("hash_16", "student-s"):
        source = page[1] / (safe_name("hash:16") if name == "hash_16" else name)
        shutil.copytree(source, runs / source.name)
    for record_path in (runs / "student-s").rglob("*.json"):
        record = json.loads(record_path.read_text())
        if "fr" in record["pair"]:
            record_path.unlink()
            continue
        record["model"]["role"] = "ablation"
        record_path.write_text(json.dumps(record))
    assert main(["leaderboard", "--results-dir", str(runs), "--out", str(folder)]) == 0
    return folder / "leaderboard.html"


def test_a_page_without_main_results_works_and_blank_cells_sort_last(driver, ablations_only):
    driver.get(ablations_only.as_uri())
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    headers = driver.find_elements("css selector", "#overview-all thead th")
    column = next(i for i, th in enumerate(headers) if th.get_attribute("data-lang") == "fr")
    for _ in range(2):  # descending, then ascending: the blank cell stays last both ways
        headers[column].click()
        cells = driver.execute_script(
            "return Array.from(document.getElementById('overview-all').tBodies[0].rows)"
            ".map(r => r.cells[arguments[0]].getAttribute('data-value'));", column)
        assert cells[-1] == "" and all(c != "" for c in cells[:-1])
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
