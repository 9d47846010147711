#!/usr/bin/env python3
"""Rebuild the real-world eval pages from a local copy of their stored text (standard library only).

The real-world cases (``dev/cases.json``, ``blind/cases.json``, ``heldout/cases.json``) are real vendors'
pages. Their text is third-party and is not in the repository: only URLs, titles and rubrics are. Each case's
page is rebuilt into the git-ignored ``.pages/<id>.html`` from a local copy kept outside the repository, one
file per case:

* ``<cache>/<id>.txt``: a ``url: <url>`` line, a ``title: <title>`` line, a blank line, then the stored text;
* or ``<cache>/<id>.json``: ``{"url": ..., "title": ..., "text": ...}``.

The page is plain: the title, then each line of the stored text as a heading, a list item or a paragraph
(navigation and footer lines are kept, as they were stored). A case whose local copy is missing, or whose
copy names another URL, is skipped and listed; ``blueprint eval ... --skip-missing`` then skips it too.

    python evals/realworld/rebuild.py --cache DIR [--out DIR] [CASES.json ...]
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CASES = (HERE / "dev" / "cases.json", HERE / "blind" / "cases.json", HERE / "heldout" / "cases.json")
DEFAULT_OUT = HERE / ".pages"
CACHE_ENV = "REALWORLD_CACHE"

_BULLET = re.compile(r"^\s*(?:[-•*·▪◦]|\d{1,2}[.)])\s+")
_HEADING_MAX_WORDS = 12


@dataclass(frozen=True)
class LocalCopy:
    url: str
    title: str
    text: str


@dataclass
class RebuildReport:
    written: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)


def read_local_copy(cache: Path, case_id: str) -> LocalCopy | None:
    """The stored text of one case, or ``None`` when the cache holds no copy of it."""
    as_json, as_text = cache / f"{case_id}.json", cache / f"{case_id}.txt"
    if as_json.is_file():
        data = json.loads(as_json.read_text(encoding="utf-8"))
        return LocalCopy(str(data.get("url", "")), str(data.get("title", "")), str(data.get("text", "")))
    if not as_text.is_file():
        return None
    header: dict[str, str] = {}
    lines = as_text.read_text(encoding="utf-8").split("\n")
    while lines and (match := re.match(r"^(url|title):\s?(.*)$", lines[0])):
        header[match.group(1)] = match.group(2).strip()
        lines.pop(0)
    if lines and not lines[0].strip():
        lines.pop(0)
    return LocalCopy(header.get("url", ""), header.get("title", ""), "\n".join(lines))


def _is_heading(line: str) -> bool:
    """A short line that does not read as a sentence: a heading where the stored text lost its markup."""
    words = line.split()
    return 0 < len(words) <= _HEADING_MAX_WORDS and not line.endswith((".", ",", ";", ":")) and ". " not in line


def page_html(title: str, text: str) -> str:
    """A plain page holding the stored text: title, then headings, lists and paragraphs, in order."""
    body: list[str] = []
    in_list = False
    first_heading = True
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        bullet = _BULLET.match(raw)
        if bullet:
            if not in_list:
                body.append("<ul>")
                in_list = True
            body.append(f"<li>{html.escape(_BULLET.sub('', raw, count=1).strip())}</li>")
            continue
        if in_list:
            body.append("</ul>")
            in_list = False
        if line.startswith("#"):
            line = line.lstrip("#").strip()
            tag = "h1" if first_heading else "h2"
        elif _is_heading(line):
            tag = "h1" if first_heading else "h2"
        else:
            tag = "p"
        first_heading = first_heading and tag == "p"
        body.append(f"<{tag}>{html.escape(line)}</{tag}>")
    if in_list:
        body.append("</ul>")
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n")


def rebuild(cases_files: list[Path], cache: Path, out: Path) -> RebuildReport:
    """Write ``out/<id>.html`` for every case of ``cases_files`` whose local copy is in ``cache``."""
    report = RebuildReport()
    out.mkdir(parents=True, exist_ok=True)
    for cases_file in cases_files:
        for case in json.loads(cases_file.read_text(encoding="utf-8")):
            copy = read_local_copy(cache, case["id"])
            if copy is None or not copy.text.strip():
                report.missing.append(case["id"])
                continue
            if copy.url and copy.url != case["url"]:  # a copy of another page must not stand in for this one
                report.mismatched.append(case["id"])
                continue
            page = page_html(copy.title or case.get("title", case["id"]), copy.text)
            (out / f"{case['id']}.html").write_text(page, encoding="utf-8")
            report.written.append(case["id"])
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", type=Path, help="cases.json files (default: dev, blind and heldout)")
    parser.add_argument("--cache", type=Path, default=os.environ.get(CACHE_ENV),
                        help=f"folder of local copies (<id>.txt or <id>.json); default ${CACHE_ENV}")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where the pages go (default: .pages/)")
    args = parser.parse_args(argv)
    if args.cache is None or not Path(args.cache).is_dir():
        print(f"error: no local copy folder: pass --cache DIR or set {CACHE_ENV}", file=sys.stderr)
        return 2
    report = rebuild(list(args.cases) or list(DEFAULT_CASES), Path(args.cache), args.out)
    print(f"rebuilt {len(report.written)} pages into {args.out}")
    if report.missing:
        print(f"skipped, no local copy: {', '.join(report.missing)}")
    if report.mismatched:
        print(f"skipped, local copy names another URL: {', '.join(report.mismatched)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
