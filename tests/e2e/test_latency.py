"""The latency benchmark (``python -m tools.latency``) on one cheap page: the report's
shape and finite, positive, ordered numbers. It is a benchmark: no time bound here."""

import json
import math
import statistics
from dataclasses import asdict

import pytest

from tools import latency

pytestmark = pytest.mark.e2e


def test_the_benchmark_times_sliders_server_rerun_and_charts(server, browser):
    page = latency.measure_page(browser, server, "regression", repeats=1, max_sliders=2)
    report = latency.make_report(latency.machine_info(browser.version), [page])

    assert page.page == "regression" and page.errors == ()
    assert page.load_s is not None and math.isfinite(page.load_s) and page.load_s > 0
    assert len(page.sliders) == 2
    for s in page.sliders:
        assert s.error is None and s.label and isinstance(s.sidebar, bool)
        assert len(s.settled_s) == len(s.started_s) == 1
        # The run starts after the key press and settles after it starts.
        assert 0 < s.started_s[0] < s.settled_s[0] < math.inf
        assert s.median_s == s.settled_s[0]
    assert page.median_s == statistics.median(s.median_s for s in page.sliders)
    assert report.median_slider_s == page.median_s and report.cold_start_s is None

    sv = page.server
    assert sv is not None and sv.exceptions == ()
    assert sv.charts >= 1 and sv.chart_bytes > 1000
    assert 0 < sv.rerun_ms < math.inf and 0 < sv.first_run_s < math.inf

    assert report.machine["cpus"] >= 1 and report.machine["streamlit"]
    assert json.loads(json.dumps(asdict(report)))["pages"][0]["page"] == "regression"
    summary = latency.format_summary(report)
    assert "regression" in summary and "median over all 2 sliders" in summary
    assert s.label in latency.format_page(page)


def test_the_command_line_rejects_a_bad_count():
    with pytest.raises(SystemExit):
        latency.main(["--repeats", "0"])
    with pytest.raises(SystemExit):
        latency.main(["--pages", "nowhere"])
