#!/usr/bin/env python3
"""Check the built book the way a reader sees it.

Every page of the table of contents is loaded in headless Chromium (Debian's ``chromium``) from
``file://``, with every host name unresolvable and Chromium's own background traffic switched off,
so the page renders exactly as it would offline. After the page's JavaScript ran (MathJax
typesetting, the widget manager), the DOM is dumped and checked. A page fails on:

- ``image``: an ``<img>`` whose file is missing or empty, or that points at a remote host;
- ``resource``: a local stylesheet or script that is missing;
- ``math``: raw TeX a reader would see (``$$``, ``\\(``, ``\\[``, ``\\begin{``, ``$\\alpha$`` ...)
  outside code, a math element MathJax did not turn into ``<mjx-container>``, a MathJax error
  (e.g. an unbalanced brace), or an undefined macro (which MathJax shows as its name in red);
- ``error``: a visible traceback (myst-nb's ``output traceback`` class, or the text
  ``Traceback (most recent call last)`` outside source code; cells tagged ``raises-exception`` are
  exempt, they show an error on purpose), a stderr output (``output stderr``) showing an
  exception or a warning, a docutils ``system-message``/``problematic`` node, or a widget that
  failed to display;
- ``widget``: a saved widget view that the vendored widget manager did not render;
- ``link``: a local href whose file, or whose ``#anchor`` in that file, does not exist;
- ``offline``: a request the page itself made to a remote host (read from Chromium's net log);
- ``figure``: a figure whose smallest text is below ``MIN_TEXT_PX`` pixels as the reader sees
  it. Each PNG that ``lib.plots`` made carries, in a text chunk (``lib.plots``), the smallest
  font size of its text in points; its ``pHYs`` chunk gives the dpi it was printed at and its
  header its pixels. The page is laid out at a desktop window's size (``WINDOW``) and Chromium
  measures the width each image is displayed at (its CSS pixels; without a browser: its own
  pixels, at most ``COLUMN_PX``). The smallest text as displayed is then
  ``min_font_pt / 72 * dpi * displayed_width / pixel_width``. Every figure's sizes are listed
  as notes; an image without the stamp (not made by ``lib.plots``) is a note.

Other stderr output (progress bars, log lines) is listed as a note and does not fail.

``--static`` parses the HTML files as written, without a browser (no JavaScript: math elements and
widgets are then not required to be rendered); the real check uses Chromium.

Usage: ``python scripts/check_book.py _build/html [--toc _toc.yml] [--screenshots DIR]``.
Exit status 0 when every page is clean, 1 when any check failed, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import yaml
from bs4 import BeautifulSoup, NavigableString, Tag

REPO = Path(__file__).resolve().parents[1]

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # every host name fails to resolve: a page that needs the network shows it, and nothing leaks
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
)
# a desktop reader's window: the page's text column is at its full width
WINDOW = "1280,2400"
# the page's text column (CSS px) and the smallest text a reader is asked to read (px as shown)
COLUMN_PX = 750
MIN_TEXT_PX = 9.0
STAMP_KEY = "lib.plots"  # lib.plots.STAMP_KEY: the PNG text chunk with a figure's measure
# written into a copy of each page before </body>: the displayed width of every image, read
# back from the dumped DOM (the load event fires before the virtual time budget runs out)
MEASURE_SCRIPT = """<script>(function () {
  function measure() {
    for (const img of document.images) {
      const box = img.getBoundingClientRect();
      img.setAttribute("data-check-width", box.width.toFixed(1));
      img.setAttribute("data-check-natural", String(img.naturalWidth));
    }
  }
  window.addEventListener("load", function () { measure(); setTimeout(measure, 2000); });
})();</script>"""
MEASURED_PAGE_PREFIX = ".check_book-"
# virtual time lets MathJax and the widget manager finish before the DOM is dumped
VIRTUAL_TIME_MS = 20_000
PAGE_TIMEOUT_S = 120

# text a reader should never see outside code: TeX delimiters and environments MathJax missed
RAW_TEX = re.compile(
    r"\$\$"  # display math delimiters
    r"|\\\(|\\\)|\\\[|\\\]"  # \( \) \[ \]
    r"|\\(?:begin|end)\{"  # environments
    r"|\$[^$\n]{0,200}?[\\^_{}][^$\n]{0,200}?\$"  # $...$ containing TeX syntax
)
TRACEBACK = "Traceback (most recent call last)"
# an exception or a warning as Python prints it: "ValueError: ...", "/x.py:3: UserWarning: ..."
ERROR_LINE = re.compile(r"\b[A-Z]\w*(?:Error|Exception|Warning)(?::|\s*$)", re.M)
# containers whose text is code or machine output, not prose
CODE_TAGS = frozenset({"pre", "code", "script", "style", "textarea", "kbd", "samp", "template"})
MATH_OUTPUT_TAGS = frozenset({"mjx-container", "mjx-assistive-mml", "math"})
EXTERNAL_SCHEMES = ("http:", "https:", "mailto:", "javascript:", "data:", "tel:", "ftp:")


@dataclass(frozen=True)
class Problem:
    """One defect on one page: ``kind`` is the check's name, ``detail`` what a fix needs to know."""

    page: str
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.page}: [{self.kind}] {self.detail}"


# ---------------------------------------------------------------------------------------------
# which pages


def toc_docnames(toc_path: Path) -> list[str]:
    """Docnames of every file in a jb-book ``_toc.yml`` (root first, then in reading order)."""
    toc = yaml.safe_load(toc_path.read_text())
    if not isinstance(toc, dict) or "root" not in toc:
        raise ValueError(f"toc_path={toc_path}: not a jb-book table of contents (no 'root' key)")
    names = [str(toc["root"])]

    def walk(entries: object) -> None:
        for entry in entries or []:
            if not isinstance(entry, dict):
                continue
            if "file" in entry:
                names.append(str(entry["file"]))
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key))
    # a docname may carry its suffix in the TOC; Sphinx writes <docname>.html either way
    return [re.sub(r"\.(md|ipynb|rst)$", "", n) for n in names]


# ---------------------------------------------------------------------------------------------
# rendering


def find_chromium() -> str | None:
    """Path of Debian's Chromium (or another Chromium on PATH), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    return None


def measured_copy(page: Path) -> Path:
    """A copy of ``page`` beside it (so relative links resolve the same) with
    :data:`MEASURE_SCRIPT` before ``</body>``; the caller deletes it."""
    html = page.read_text(errors="replace")
    at = html.lower().rfind("</body>")
    html = html[:at] + MEASURE_SCRIPT + html[at:] if at >= 0 else html + MEASURE_SCRIPT
    copy = page.with_name(MEASURED_PAGE_PREFIX + page.name)
    copy.write_text(html)
    return copy


def render(
    page: Path, chromium: str, workdir: Path, screenshot: Path | None = None
) -> tuple[str, list[str]]:
    """Load ``page`` in headless Chromium at a :data:`WINDOW`-sized window; return (DOM after
    JavaScript, with each image's displayed width, remote URLs it requested)."""
    profile = Path(tempfile.mkdtemp(prefix="profile-", dir=workdir))
    netlog = profile / "netlog.json"
    base = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        f"--window-size={WINDOW}",
    ]
    url = page.resolve().as_uri()
    copy = measured_copy(page)
    try:
        proc = subprocess.run(
            [*base, f"--log-net-log={netlog}", "--dump-dom", copy.resolve().as_uri()],
            capture_output=True,
            text=True,
            timeout=PAGE_TIMEOUT_S,
            check=False,
        )
    finally:
        copy.unlink(missing_ok=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(
            f"chromium failed on {url} (exit {proc.returncode}): {proc.stderr[-2000:]}"
        )
    if screenshot is not None:
        subprocess.run(
            [*base, f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=PAGE_TIMEOUT_S,
            check=False,
            cwd=profile,
        )
    remote = page_remote_requests(netlog)
    shutil.rmtree(profile, ignore_errors=True)
    return proc.stdout, remote


def page_remote_requests(netlog: Path) -> list[str]:
    """http(s) URLs the page requested, from a Chromium net log.

    Chromium's own requests carry the initiator "not an origin"; a ``file://`` page's carry "null".
    """
    try:
        log = json.loads(netlog.read_text())
    except (OSError, ValueError):
        return []  # Chromium writes the log at exit; a missing log only loses this check
    start_job = log.get("constants", {}).get("logEventTypes", {}).get("URL_REQUEST_START_JOB")
    urls = []
    for event in log.get("events", []):
        params = event.get("params") or {}
        url = str(params.get("url", ""))
        if (
            event.get("type") == start_job
            and url.startswith(("http://", "https://"))
            and params.get("initiator") != "not an origin"
        ):
            urls.append(url)
    return sorted(set(urls))


# ---------------------------------------------------------------------------------------------
# figures: what a PNG says about its text


def png_info(data: bytes) -> dict | None:
    """From a PNG's bytes: ``width`` and ``height`` (pixels), ``dpi`` (from ``pHYs``, None if
    absent) and ``text`` (its tEXt/iTXt/zTXt chunks, key -> value); None if not a PNG."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    info: dict = {"width": None, "height": None, "dpi": None, "text": {}}
    at = 8
    while at + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[at : at + 8])
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IHDR":
            info["width"], info["height"] = struct.unpack(">II", body[:8])
        elif kind == b"pHYs" and len(body) >= 9 and body[8] == 1:  # unit: metre
            info["dpi"] = struct.unpack(">I", body[:4])[0] * 0.0254
        elif kind == b"tEXt" and b"\0" in body:
            key, value = body.split(b"\0", 1)
            info["text"][key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt" and b"\0" in body:
            key, rest = body.split(b"\0", 1)
            info["text"][key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        elif kind == b"iTXt" and b"\0" in body:
            key, rest = body.split(b"\0", 1)
            compressed, rest = rest[0], rest[2:]
            rest = rest.split(b"\0", 2)[-1]  # language tag, translated keyword
            value = zlib.decompress(rest) if compressed else rest
            info["text"][key.decode("latin-1")] = value.decode("utf-8")
        elif kind == b"IEND":
            break
    return info


def image_bytes(src: str, page: Path) -> bytes | None:
    """The bytes of an ``<img src>``: a base64 data URI or a local file; None otherwise."""
    if src.startswith("data:"):
        head, _, payload = src.partition(",")
        try:
            return base64.b64decode(payload) if ";base64" in head else None
        except ValueError:
            return None
    target = _local_target(src, page)
    if target is None or not target[0].is_file():
        return None
    return target[0].read_bytes()


def figure_sizes(img: Tag, data: bytes) -> dict | None:
    """How one ``lib.plots`` figure reads on the page: ``pixels`` (its width), ``displayed``
    (CSS px: measured by Chromium, else the width attribute or its pixels, at most
    :data:`COLUMN_PX`), ``dpi``, ``min_font_pt`` and ``min_text_px`` (its smallest text as
    displayed). None for an image without the stamp."""
    info = png_info(data)
    if info is None or STAMP_KEY not in info["text"] or not info["width"]:
        return None
    try:
        stamp = json.loads(info["text"][STAMP_KEY])
        min_pt = float(stamp["min_font_pt"])
    except (ValueError, KeyError, TypeError):
        return None
    dpi = info["dpi"] or float(stamp.get("dpi") or 100)
    try:
        displayed = float(img.get("data-check-width") or 0)
    except ValueError:
        displayed = 0.0
    if displayed <= 0:  # not measured (no browser, or not laid out): as a column shows it
        natural = img.get("width")
        natural = (
            float(natural)
            if natural and str(natural).replace(".", "", 1).isdigit()
            else info["width"]
        )
        displayed = min(natural, COLUMN_PX)
    return {
        "pixels": info["width"],
        "displayed": round(displayed, 1),
        "dpi": round(dpi, 1),
        "min_font_pt": min_pt,
        "min_text_px": round(min_pt / 72 * dpi * displayed / info["width"], 2),
    }


# ---------------------------------------------------------------------------------------------
# checks on one page's DOM


def _classes(tag: Tag) -> list[str]:
    return list(tag.get("class") or [])


def _in_code(node: Tag | NavigableString) -> bool:
    for parent in node.parents:
        if parent.name in CODE_TAGS or parent.name in MATH_OUTPUT_TAGS:
            return True
        if "highlight" in _classes(parent):
            return True
    return False


def _in_source(node: Tag | NavigableString) -> bool:
    """Inside source code (a cell's input or a code block), as opposed to a cell's output."""
    for parent in node.parents:
        classes = _classes(parent)
        if "cell_input" in classes:
            return True
        if "output" not in classes and any(c.startswith("highlight-") for c in classes):
            return True
    return False


def _local_target(href: str, page: Path) -> tuple[Path, str] | None:
    """(file, fragment) a local href points at, or None for external/empty links."""
    href = href.strip()
    if (
        not href
        or href == "#"
        or href.lower().startswith(EXTERNAL_SCHEMES)
        or href.startswith("//")
    ):
        return None
    parts = urlsplit(href)
    if parts.scheme and parts.scheme != "file":
        return None
    path = unquote(parts.path)
    if parts.scheme == "file":
        target = Path(path)
    elif not path:
        target = page
    else:
        target = (page.parent / path).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


class _AnchorCache:
    """Ids (and legacy ``<a name>``) of the HTML files that links point at, parsed once each."""

    def __init__(self) -> None:
        self._ids: dict[Path, set[str]] = {}

    def add(self, path: Path, soup: BeautifulSoup) -> None:
        ids = {t["id"] for t in soup.find_all(id=True)}
        ids |= {t["name"] for t in soup.find_all("a", attrs={"name": True})}
        self._ids[path.resolve()] = self._ids.get(path.resolve(), set()) | ids

    def ids(self, path: Path) -> set[str]:
        path = path.resolve()
        if path not in self._ids:
            self.add(path, BeautifulSoup(path.read_text(errors="replace"), "html.parser"))
        return self._ids[path]


def check_dom(
    dom: str,
    page: Path,
    root: Path,
    *,
    rendered: bool,
    anchors: _AnchorCache | None = None,
    label: str | None = None,
) -> tuple[list[Problem], list[str]]:
    """Check one page's DOM; return (problems, notes).

    ``rendered``: the DOM is Chromium's after JavaScript, so math must be typeset and widgets shown.
    ``root``: the HTML output folder; links must stay inside it.
    """
    label = label or str(page.relative_to(root) if page.is_relative_to(root) else page)
    anchors = anchors or _AnchorCache()
    if not page.is_file():
        raise ValueError(f"page={page}: not a file")
    soup = BeautifulSoup(dom, "html.parser")
    anchors.add(page, soup)
    body = soup.body or soup
    problems: list[Problem] = []
    notes: list[str] = []

    def fail(kind: str, detail: str) -> None:
        problems.append(Problem(label, kind, detail))

    # images
    for n, img in enumerate(body.find_all("img"), 1):
        src = (img.get("src") or "").strip()
        data = image_bytes(src, page) if src else None
        sizes = figure_sizes(img, data) if data else None
        if sizes is not None:
            what = (
                f"figure {n} ({sizes['pixels']} px shown at {sizes['displayed']:g} px, "
                f"{sizes['dpi']:g} dpi, smallest text {sizes['min_font_pt']:g} pt = "
                f"{sizes['min_text_px']:g} px)"
            )
            if sizes["min_text_px"] < MIN_TEXT_PX:
                fail("figure", f"{what}: text below {MIN_TEXT_PX:g} px as displayed")
            else:
                notes.append(f"{label}: {what}")
        elif data is not None and png_info(data) is not None:
            notes.append(
                f"{label}: figure {n} has no {STAMP_KEY} stamp (not made by lib.plots); "
                "its text size is not checked"
            )
        if not src:
            fail("image", "<img> without src")
        elif src.startswith("data:"):
            if "," not in src or not src.split(",", 1)[1].strip():
                fail("image", "<img> with an empty data: URI")
        elif src.lower().startswith(("http:", "https:", "//")):
            fail("image", f"<img> loads from the network: {src[:120]}")
        else:
            target = _local_target(src, page)
            if target is not None:
                path = target[0]
                if not path.is_file():
                    fail("image", f"<img> file missing: {src}")
                elif path.stat().st_size == 0:
                    fail("image", f"<img> file is empty: {src}")

    # local stylesheets and scripts
    for tag, attr in (("link", "href"), ("script", "src")):
        for el in soup.find_all(tag, attrs={attr: True}):
            if tag == "link" and "stylesheet" not in (el.get("rel") or []):
                continue
            target = _local_target(el[attr], page)
            if target is not None and not target[0].is_file():
                fail("resource", f"<{tag}> {attr} missing: {el[attr]}")

    # math
    for el in body.find_all(class_="math"):
        if el.name in MATH_OUTPUT_TAGS or _in_code(el):
            continue
        if rendered and el.find("mjx-container") is None:
            fail("math", f"math not typeset by MathJax: {el.get_text()[:120]!r}")
    for container in body.find_all("mjx-container"):
        errors = {
            el.get("data-mjx-error") or el.get_text()
            for el in container.find_all(attrs={"data-mjx-error": True})
        }
        if not errors and container.find("mjx-merror") is not None:
            errors = {container.find("mjx-merror").get_text()}
        for error in sorted(errors):
            fail("math", f"MathJax error: {error[:160]!r}")
        # MathJax's noundefined package shows an unknown macro as its name in red instead of failing
        for el in container.find_all("mtext", attrs={"mathcolor": "red"}):
            fail("math", f"undefined TeX macro: {el.get_text()[:80]!r}")
    for text in body.find_all(string=True):
        if _in_code(text) or text.parent is None:
            continue
        if not rendered and any("math" in _classes(p) for p in text.parents):
            continue  # without JavaScript, MathJax's input is expected to be raw
        if m := RAW_TEX.search(text):
            start = max(m.start() - 40, 0)
            fail("math", f"raw TeX visible: {text[start : m.end() + 40].strip()!r}")

    # errors and stderr (a cell tagged raises-exception shows its error on purpose)
    def deliberate(node: Tag | NavigableString) -> bool:
        return any("tag_raises-exception" in _classes(p) for p in node.parents)

    for el in body.find_all(class_="traceback"):
        if "output" in _classes(el) and not deliberate(el):
            first = next((ln for ln in el.get_text().splitlines() if ERROR_LINE.search(ln)), "")
            fail("error", f"error output of a cell: {(first.strip() or el.get_text())[:160]!r}")
    for text in body.find_all(string=re.compile(re.escape(TRACEBACK))):
        if not (
            _in_source(text)
            or deliberate(text)
            or any("traceback" in _classes(p) for p in text.parents)
        ):
            fail("error", f"traceback visible: {text.strip()[:160]!r}")
    for el in body.find_all(class_="stderr"):
        if "output" not in _classes(el):
            continue
        content = "".join(t for t in el.find_all(string=True) if t.find_parent("button") is None)
        if m := ERROR_LINE.search(content):
            fail(
                "error",
                f"stderr output shows an exception or warning: {m.group(0).strip()!r} "
                f"in {content.strip()[:200]!r}",
            )
        elif content.strip():
            notes.append(f"{label}: stderr output shown: {content.strip()[:120]!r}")
    for el in body.find_all(class_=["system-message", "problematic"]):
        fail("error", f"docutils {' '.join(_classes(el))}: {el.get_text()[:160]!r}")
    for text in body.find_all(
        string=re.compile(r"Error displaying widget|Widget Javascript not detected")
    ):
        fail("error", f"widget failed: {text.strip()[:160]!r}")

    # widgets: each saved view must have been replaced by a rendered widget
    if rendered:
        for view in soup.find_all(
            "script", attrs={"type": "application/vnd.jupyter.widget-view+json"}
        ):
            holder = view.parent
            if (
                holder is None
                or holder.find(class_=re.compile(r"^(jupyter-widgets|widget-subarea)$")) is None
            ):
                try:
                    model = json.loads(view.string or "{}").get("model_id", "?")
                except ValueError:
                    model = "?"
                fail(
                    "widget", f"widget view {model} was not rendered (widget JS missing or failing)"
                )

    # links
    for a in body.find_all("a", href=True):
        target = _local_target(a["href"], page)
        if target is None:
            continue
        path, fragment = target
        if not path.resolve().is_relative_to(root.resolve()):
            fail("link", f"link leaves the book: {a['href']}")
        elif not path.is_file():
            fail("link", f"link to a missing file: {a['href']}")
        elif fragment and path.suffix == ".html" and fragment not in anchors.ids(path):
            fail("link", f"link to a missing anchor: {a['href']}")

    return problems, notes


# ---------------------------------------------------------------------------------------------
# whole book


def check_book(
    html: Path, docnames: list[str], *, chromium: str | None, screenshots: Path | None = None
) -> tuple[list[Problem], list[str]]:
    """Check every page in ``docnames`` under the HTML folder ``html``; return (problems, notes).

    ``chromium`` None means the static check (no JavaScript).
    """
    if not html.is_dir():
        raise ValueError(f"html={html}: not a folder (build the book first)")
    problems: list[Problem] = []
    notes: list[str] = []
    anchors = _AnchorCache()
    with tempfile.TemporaryDirectory(prefix="check_book-") as tmp:
        for name in docnames:
            page = html / f"{name}.html"
            if not page.is_file():
                problems.append(Problem(f"{name}.html", "page", "in the TOC but not built"))
                continue
            if chromium is None:
                dom, remote = page.read_text(errors="replace"), []
            else:
                shot = None
                if screenshots is not None:
                    screenshots.mkdir(parents=True, exist_ok=True)
                    shot = screenshots.resolve() / (name.replace("/", "__") + ".png")
                dom, remote = render(page, chromium, Path(tmp), shot)
            found, page_notes = check_dom(
                dom,
                page,
                html,
                rendered=chromium is not None,
                anchors=anchors,
                label=f"{name}.html",
            )
            found += [
                Problem(f"{name}.html", "offline", f"page requested {u[:160]}") for u in remote
            ]
            problems += found
            notes += page_notes
            print(
                f"  {'ok  ' if not found else 'FAIL'} {name}.html"
                + (f" ({len(found)} problem{'s' * (len(found) > 1)})" if found else "")
            )
    return problems, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "html",
        type=Path,
        nargs="?",
        default=REPO / "_build" / "html",
        help="the book's HTML folder (default: _build/html)",
    )
    parser.add_argument(
        "--toc", type=Path, default=REPO / "_toc.yml", help="table of contents (default: _toc.yml)"
    )
    parser.add_argument(
        "--static", action="store_true", help="parse the HTML files without a browser"
    )
    parser.add_argument(
        "--screenshots", type=Path, help="also save a PNG of every page into this folder"
    )
    args = parser.parse_args(argv)

    chromium = None
    if not args.static:
        chromium = find_chromium()
        if chromium is None:
            print(
                "check_book: chromium not found; install Debian's 'chromium' (make browser) "
                "or pass --static",
                file=sys.stderr,
            )
            return 2
    try:
        docnames = toc_docnames(args.toc)
        mode = "static HTML" if chromium is None else f"rendered by {chromium}"
        print(f"check_book: {len(docnames)} pages of {args.toc.name} in {args.html} ({mode})")
        problems, notes = check_book(
            args.html, docnames, chromium=chromium, screenshots=args.screenshots
        )
    except ValueError as err:
        print(f"check_book: {err}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"note: {note}")
    if problems:
        print(f"\ncheck_book: {len(problems)} problem{'s' * (len(problems) > 1)}:")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print("check_book: all pages clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
