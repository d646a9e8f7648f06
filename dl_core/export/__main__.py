"""python -m dl_core.export PAGE [--query 'k=v&k2=v2']: print the page's script."""

from __future__ import annotations

import argparse
import sys

from dl_core.export import PAGES, ExportError, script, settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dl_core.export",
        description="Print a page's current experiment as a standalone PyTorch script.",
    )
    parser.add_argument("page", help="the page's URL path: " + ", ".join(PAGES))
    parser.add_argument("--query", default="", help="the page's URL settings, 'k=v&k2=v2'")
    args = parser.parse_args(argv)
    try:
        res = settings(args.page, args.query, strict=True)
        text = script(args.page, args.query, strict=True)
    except ExportError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for note in res.notes:
        print(f"note: {note}", file=sys.stderr)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
