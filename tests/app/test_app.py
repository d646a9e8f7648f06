"""The router and every registered page run without exception."""

import pytest

from tests.app.conftest import assert_ok, run_page
from ui.nav import PAGES, available


def test_router_runs_and_the_sidebar_holds_no_machine_details():
    at = run_page("app.py")
    assert_ok(at)
    assert not any("Device" in c.value or "PyTorch" in c.value for c in at.sidebar.caption)


def test_home_shows_the_notation_table_and_the_machine():
    from dl_core import notation

    at = run_page("pages/home.py")
    assert_ok(at)
    table = next(m.value for m in at.markdown if m.value.startswith("| symbol"))
    assert table.count("\n") == len(notation.SYMBOLS) + 1
    assert "λ_min, λ_max" in table and "latent dimension" in table
    assert any(m.label == "Torch threads" for m in at.metric)


def test_home_page_explains_the_map():
    at = run_page("pages/home.py")
    assert_ok(at)
    assert at.title[0].value == "dl-math-lab"
    assert any("The map" in s.value for s in at.subheader)
    assert len(at.latex) >= 1


def test_registry_has_unique_paths_and_home_first():
    assert PAGES[0].url_path == "home"
    assert len({p.url_path for p in PAGES}) == len(PAGES)
    assert {p.path for p in available()} >= {"pages/home.py", "pages/gradient_descent.py"}


@pytest.mark.parametrize("spec", available(), ids=lambda s: s.url_path)
def test_every_registered_page_runs_with_defaults(spec):
    assert_ok(run_page(spec.path))


@pytest.mark.parametrize("spec", available(), ids=lambda s: s.url_path)
def test_every_page_survives_hostile_query_strings(spec):
    hostile = {
        "lr": "1e309", "steps": "-5", "surface": "<script>alert(1)</script>", "opt": "__import__('os')",
        "seed": "NaN", "x0": "inf", "kappa": "../../etc/passwd", "unknown": "x" * 500,
    }  # fmt: skip
    assert_ok(run_page(spec.path, query=hostile))
