"""Take it home: every page's current experiment as a standalone PyTorch script.

``script(page, query)`` returns the source of a script that trains what the page trains
with the settings in ``query`` (the page's URL parameters, read and clamped exactly as the
page reads them: ``dl_core.export.params``). The script imports only torch, numpy and the
standard library, builds an ``nn.Module``, trains it with ``torch.optim`` in a plain loop,
makes its data itself (the same generators and seeds as ``dl_core``; the digits from
``data/digits.csv.gz``) and prints, as its last line, one JSON object of final metrics.

Command line: ``python -m dl_core.export PAGE [--query 'k=v&k2=v2']``.

Nothing from a link reaches a script except as a validated number or a name from a
page's fixed list (``dl_core.export.template.literal``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from dl_core.export.pages import CONTEXT, SPECS
from dl_core.export.params import ExportError, Param, Resolved, resolve
from dl_core.export.template import Code, render

TEMPLATES = Path(__file__).resolve().parent / "templates"
PAGES: tuple[str, ...] = tuple(SPECS)

__all__ = ["PAGES", "ExportError", "parse_query", "script", "settings", "specs"]


def specs(page: str) -> list[Param]:
    """The URL settings of ``page`` (ExportError for an unknown page)."""
    if page not in SPECS:
        raise ExportError(f"unknown page {page[:40]!r}; pages: {', '.join(PAGES)}")
    return SPECS[page]()


def parse_query(text: str) -> dict[str, str]:
    """'k=v&k2=v2' (a leading '?' allowed) -> {key: value}; the last value of a repeated key
    wins, as in ``st.query_params``. ExportError when the text is not a query string."""
    text = text.strip().removeprefix("?")
    if not text:
        return {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError as e:
        raise ExportError(f"bad query {text[:40]!r}: expected key=value pairs joined by &") from e
    return dict(pairs)


def settings(page: str, query: Mapping[str, str] | str = "", strict: bool = False) -> Resolved:
    """The page's settings for ``query``, as the page would use them."""
    q = parse_query(query) if isinstance(query, str) else dict(query)
    return resolve(specs(page), q, strict=strict)


def link(page: str, res: Resolved) -> str:
    """The page's URL path and query for these settings (only values that differ from the
    defaults), so the script's header leads back to the same experiment."""
    defaults = resolve(specs(page), {}).values
    changed = {}
    for k in res.drawn:
        value = res.values[k]
        if value != defaults.get(k):
            if isinstance(value, bool):
                changed[k] = "1" if value else "0"
            elif isinstance(value, list):
                changed[k] = ",".join(value)
            elif isinstance(value, float):
                changed[k] = f"{value:g}"
            else:
                changed[k] = str(value)
    return "/" + page + ("?" + urlencode(changed) if changed else "")


def script(page: str, query: Mapping[str, str] | str = "", strict: bool = False) -> str:
    """The standalone PyTorch script of ``page`` with the settings of ``query``."""
    res = settings(page, query, strict=strict)
    values = CONTEXT[page](dict(res.values))
    values["link"] = Code(link(page, res))
    return render((TEMPLATES / f"{page}.py.tmpl").read_text(), values)


def filename(page: str) -> str:
    return f"{page}.py"
