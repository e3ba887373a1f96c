"""The tools' report pictures (tools/reports): real PNG files, one HTML page that links them."""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

import pytest

from tools.reports import charts
from tools.reports.page import ReportPage

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the IHDR chunk; fails on anything that is not a PNG."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def draw_all(page: ReportPage) -> None:
    charts.grouped_bars(
        page.figure("accuracy", "Accuracy per language"),
        ["en", "fi", "sv"],
        {"dev": [0.9, 0.8, math.nan], "held-out": [0.85, 0.7, 0.6]},
        "acc@1",
        "accuracy@1",
    )
    charts.confusion_matrix(
        page.figure("confusion", "Confusion"),
        ["vero", "vero", "kela", "migri"],
        ["vero", "kela", "kela", "(no answer)"],
        "organisations",
    )
    charts.threshold_curve(
        page.figure("threshold", "Threshold"),
        [0.80, 0.82, 0.84, 0.86],
        {"answered": [1.0, 0.9, 0.7, 0.4], "accuracy of answered": [0.8, 0.85, 0.9, 0.95]},
        {"calibrated": 0.84, "configured": 0.83},
        "threshold",
    )
    charts.histogram(
        page.figure("latency", "Latency"), [12.0, 15.0, 20.0, 90.0] * 10, {"p95": 90.0}, "t", "ms"
    )
    charts.timeline(
        page.figure("timeline", "Timeline"), [0, 1, 2], [10.0, 14.0, 3.0], [80.0, 120.0, None], "t"
    )


def test_page_links_every_png_and_each_is_a_readable_image(tmp_path: Path) -> None:
    page = ReportPage.create("eval", tmp_path, "Retrieval <evaluation>")
    draw_all(page)
    page.text("table", "| a | b |\n|---|---|\n| 1 | <2> |")
    index = page.write()

    assert index == page.directory / "index.html"
    assert re.fullmatch(r"eval-\d{8}-\d{6}", page.directory.name)
    html = index.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    linked = re.findall(r'<img src="([^"]+)"', html)
    assert sorted(linked) == sorted(p.name for p in page.directory.glob("*.png"))
    assert len(linked) == 5
    for name in linked:
        width, height = png_size(page.directory / name)
        assert width >= 400 and height >= 300, name
    assert "Retrieval &lt;evaluation&gt;" in html and "| 1 | &lt;2&gt; |" in html
    assert "http" not in html, "the page must not load anything from elsewhere"


def test_two_runs_in_the_same_second_get_their_own_folder(tmp_path: Path) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5)
    first = ReportPage.create("loadtest", tmp_path, "x", now)
    second = ReportPage.create("loadtest", tmp_path, "x", now)
    assert first.directory.name == "loadtest-20260102-030405"
    assert second.directory.name == "loadtest-20260102-030405-1"


@pytest.mark.parametrize(
    "draw",
    [
        lambda p: charts.grouped_bars(p, [], {"dev": []}, "bars", "y"),
        lambda p: charts.grouped_bars(p, ["en"], {}, "bars", "y"),
        lambda p: charts.confusion_matrix(p, [], [], "confusion"),
        lambda p: charts.threshold_curve(p, [], {"answered": []}, {}, "threshold"),
        lambda p: charts.histogram(p, [], {}, "latency", "ms"),
        lambda p: charts.timeline(p, [], [], [], "timeline"),
    ],
)
def test_a_chart_without_data_is_refused(tmp_path: Path, draw) -> None:
    with pytest.raises(ValueError, match="no data"):
        draw(tmp_path / "empty.png")
    assert not (tmp_path / "empty.png").exists()


def test_mismatched_series_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="values"):
        charts.grouped_bars(tmp_path / "x.png", ["en", "fi"], {"dev": [0.5]}, "bars", "y")
    with pytest.raises(ValueError, match="predicted"):
        charts.confusion_matrix(tmp_path / "x.png", ["a", "b"], ["a"], "confusion")


def test_a_figure_announced_but_not_drawn_fails_the_page(tmp_path: Path) -> None:
    page = ReportPage.create("eval", tmp_path, "x")
    page.figure("missing", "never drawn")
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        page.write()
