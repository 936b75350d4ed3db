"""scripts/check_book.py on tiny synthetic sites: a clean page passes, each defect is caught.

The static checks (no JavaScript) always run. The rendered checks need Debian's chromium
(``make browser`` installs it) and are skipped without it; ``make check`` runs the real thing.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("check_book", REPO / "scripts" / "check_book.py")
check_book = importlib.util.module_from_spec(_spec)
sys.modules["check_book"] = check_book
_spec.loader.exec_module(check_book)

# A PNG header is enough: the checker looks at the file, the browser only needs something to show.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
MATHJAX_CONFIG = (
    '<script>window.MathJax = {"options": {"processHtmlClass": '
    '"tex2jax_process|mathjax_process|math|output_area"}}</script>'
)
CLEAN_BODY = """
<section id="top"><h1>Title</h1>
<p>Inline <span class="math notranslate nohighlight">\\(\\alpha^2\\)</span> and a figure.</p>
<div class="math notranslate nohighlight">\\[\\tau \\dot r = -r + \\phi(W r)\\]</div>
<img src="../_images/fig.png" alt="fig">
<div class="cell_output">
<div class="output stream highlight-myst-ansi"><pre>loss $x_1$ \\begin{x} 0.5</pre></div></div>
<div class="cell_input docutils container"><div class="highlight-ipython3 notranslate">
<div class="highlight"><pre>s = "$$" + r"\\(" + "Traceback (most recent call last):"</pre>
</div></div></div>
<p><a href="#top">up</a> <a href="other.html#sec">other</a> <a href="other.html">o</a>
<a href="https://example.org/">ext</a> <a href="#">menu</a> <a href="mailto:a@b.c">mail</a></p>
</section>
"""
DEFECTS = {
    "image": '<img src="../_images/missing.png">',
    "image-empty": '<img src="../_images/empty.png">',
    "image-remote": '<img src="https://example.org/x.png">',
    "math-dollars": "<p>The loss $$L = \\sum_i x_i$$ is minimised.</p>",
    "math-paren": "<p>where \\(x\\) is the input</p>",
    "math-begin": "<p>\\begin{align} a &amp;= b \\end{align}</p>",
    "math-inline": "<p>with $\\alpha_1$ the rate</p>",
    "error-traceback-class": (
        '<div class="output traceback highlight-ipythontb"><pre>'
        "ValueError: profile='huge' not in smoke, quick, paper</pre></div>"
    ),
    "error-traceback-text": (
        '<div class="output stream"><pre>Traceback (most recent call last):\n'
        '  File "x.py", line 1\nRuntimeError: boom</pre></div>'
    ),
    "error-stderr": (
        '<div class="output stderr highlight-myst-ansi"><pre>/x.py:3: UserWarning: '
        "bad things\n  warnings.warn(</pre></div>"
    ),
    "error-docutils": '<div class="system-message"><p>Unknown directive type "foo".</p></div>',
    "link-file": '<p><a href="missing.html">gone</a></p>',
    "link-anchor": '<p><a href="other.html#nope">gone</a></p>',
    "link-self-anchor": '<p><a href="#nope">gone</a></p>',
    "link-outside": '<p><a href="../../../etc/passwd">out</a></p>',
    "resource": '<script src="../_static/missing.js"></script>',
}


def _page(body: str, head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>"
    )


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    """An HTML root with book/other.html (anchor #sec), _images/fig.png and an empty
    _images/empty.png."""
    html = tmp_path / "html"
    (html / "book").mkdir(parents=True)
    (html / "_images").mkdir()
    (html / "_images" / "fig.png").write_bytes(PNG)
    (html / "_images" / "empty.png").write_bytes(b"")
    (html / "book" / "other.html").write_text(_page('<section id="sec"><h1>Other</h1></section>'))
    return html


def _check_static(site: Path, body: str) -> list:
    page = site / "book" / "page.html"
    page.write_text(_page(body))
    problems, _ = check_book.check_dom(page.read_text(), page, site, rendered=False)
    return problems


def test_clean_page_passes_static(site: Path) -> None:
    assert _check_static(site, CLEAN_BODY) == []


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_caught_static(site: Path, defect: str) -> None:
    problems = _check_static(site, CLEAN_BODY + DEFECTS[defect])
    kind = defect.split("-")[0]
    assert [p.kind for p in problems] == [kind], problems


def test_deliberate_error_cell_passes(site: Path) -> None:
    cell = (
        '<div class="cell tag_raises-exception docutils container">'
        + DEFECTS["error-traceback-class"]
        + DEFECTS["error-traceback-text"]
        + "</div>"
    )
    assert _check_static(site, CLEAN_BODY + cell) == []


def test_plain_stderr_is_a_note_not_a_failure(site: Path) -> None:
    page = site / "book" / "page.html"
    page.write_text(_page(CLEAN_BODY + '<div class="output stderr"><pre>epoch 3/10</pre></div>'))
    problems, notes = check_book.check_dom(page.read_text(), page, site, rendered=False)
    assert problems == [] and len([n for n in notes if "stderr" in n]) == 1


def test_toc_docnames(tmp_path: Path) -> None:
    toc = tmp_path / "_toc.yml"
    toc.write_text(
        "format: jb-book\nroot: book/intro\nparts:\n  - caption: A\n    chapters:\n"
        "      - file: book/a.ipynb\n        sections:\n          - file: book/b\n"
    )
    assert check_book.toc_docnames(toc) == ["book/intro", "book/a", "book/b"]


def test_page_missing_from_build_fails(site: Path) -> None:
    problems, _ = check_book.check_book(site, ["book/other", "book/absent"], chromium=None)
    assert [(p.page, p.kind) for p in problems] == [("book/absent.html", "page")]


def test_cli_exit_status(site: Path, tmp_path: Path) -> None:
    toc = tmp_path / "_toc.yml"
    toc.write_text("format: jb-book\nroot: book/page\n")
    (site / "book" / "page.html").write_text(_page(CLEAN_BODY))
    assert check_book.main([str(site), "--toc", str(toc), "--static"]) == 0
    (site / "book" / "page.html").write_text(_page(CLEAN_BODY + DEFECTS["link-file"]))
    assert check_book.main([str(site), "--toc", str(toc), "--static"]) == 1


CHROMIUM = check_book.find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (make browser)"
)


def _with_vendored_mathjax(site: Path) -> str:
    """Link the vendored MathJax into the site, exactly as the book ships it; return the <head>
    part."""
    (site / "_static").mkdir()
    (site / "_static" / "mathjax").symlink_to(REPO / "_vendor" / "mathjax")
    return MATHJAX_CONFIG + '<script defer src="../_static/mathjax/tex-mml-chtml.js"></script>'


@needs_chromium
def test_rendered_clean_page_passes(site: Path) -> None:
    (site / "book" / "page.html").write_text(_page(CLEAN_BODY, _with_vendored_mathjax(site)))
    problems, _ = check_book.check_book(site, ["book/page"], chromium=CHROMIUM)
    assert problems == []


@needs_chromium
def test_rendered_catches_tex_errors(site: Path) -> None:
    bad = (
        '<p><span class="math notranslate nohighlight">\\(\\foo x\\)</span> and '
        '<span class="math notranslate nohighlight">\\(a^{b}}\\)</span></p>'
    )
    (site / "book" / "page.html").write_text(_page(CLEAN_BODY + bad, _with_vendored_mathjax(site)))
    problems, _ = check_book.check_book(site, ["book/page"], chromium=CHROMIUM)
    details = sorted(p.detail for p in problems)
    assert [p.kind for p in problems] == ["math", "math"], problems
    assert "brace" in details[0] and "\\foo" in details[1], details


@needs_chromium
def test_rendered_catches_untypeset_math_and_remote_requests(site: Path) -> None:
    head = (
        MATHJAX_CONFIG
        + '<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"></script>'
    )
    (site / "book" / "page.html").write_text(_page(CLEAN_BODY, head))
    problems, _ = check_book.check_book(site, ["book/page"], chromium=CHROMIUM)
    kinds = sorted({p.kind for p in problems})
    assert kinds == ["math", "offline"], problems


# ---------------------------------------------------------------------------------------------
# figures: the smallest text as a reader sees it


def _figure_png(width_in: float, font_pt: float, dpi: float = 100) -> bytes:
    """A PNG printed from a lib.plots figure (stamped) of ``width_in`` inches whose texts are
    ``font_pt`` points."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lib import plots

    fig = plots.stamp(plt.figure(figsize=(width_in, 2.5)))
    ax = fig.add_subplot()
    ax.set_title("title", fontsize=font_pt)
    ax.tick_params(labelsize=font_pt)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def test_png_info_reads_size_dpi_and_stamp() -> None:
    info = check_book.png_info(_figure_png(4.0, 8, dpi=100))
    assert info["width"] == 400 and info["dpi"] == pytest.approx(100, abs=0.01)
    assert '"min_font_pt": 8.0' in info["text"][check_book.STAMP_KEY]
    assert check_book.png_info(b"GIF89a") is None
    assert check_book.png_info(PNG)["text"] == {}  # the bare PNG: no stamp


@pytest.mark.parametrize(
    "width_in, font_pt, fails",
    [
        (7.0, 8, False),  # 700 px shown at 700: 8 pt = 11.1 px
        (4.0, 6, True),  # 6 pt at 100 dpi = 8.3 px at its own size
        (13.0, 8, True),  # 1300 px shrunk to the 750 px column: 8 pt = 6.4 px
        (6.0, 5, True),  # 5 pt = 6.9 px at its own size
    ],
)
def test_figure_text_size_is_checked_static(site: Path, width_in, font_pt, fails) -> None:
    (site / "_images" / "plot.png").write_bytes(_figure_png(width_in, font_pt))
    page = site / "book" / "page.html"
    page.write_text(_page(CLEAN_BODY + '<img src="../_images/plot.png" alt="plot">'))
    problems, notes = check_book.check_dom(page.read_text(), page, site, rendered=False)
    assert [p.kind for p in problems] == (["figure"] if fails else []), problems
    if not fails:
        assert any("smallest text" in n and f"{font_pt:g} pt" in n for n in notes), notes


def test_a_measured_display_width_decides(site: Path) -> None:
    """The width Chromium measured (data-check-width) is the one used: a legible figure shown at
    a third of its pixels fails; an inline data: URI is read too."""
    import base64

    data = base64.b64encode(_figure_png(6.0, 9)).decode()
    page = site / "book" / "page.html"
    body = (
        f'<img src="data:image/png;base64,{data}" data-check-width="600">'
        f'<img src="data:image/png;base64,{data}" data-check-width="200">'
    )
    page.write_text(_page(CLEAN_BODY + body))
    problems, _ = check_book.check_dom(page.read_text(), page, site, rendered=False)
    assert [p.kind for p in problems] == ["figure"] and "figure 3" in problems[0].detail, problems


def test_an_image_without_stamp_is_a_note(site: Path) -> None:
    page = site / "book" / "page.html"
    page.write_text(_page(CLEAN_BODY))
    problems, notes = check_book.check_dom(page.read_text(), page, site, rendered=False)
    assert problems == [] and any("no lib.plots stamp" in n for n in notes)


@needs_chromium
def test_rendered_measures_the_displayed_width(site: Path) -> None:
    """In the browser, a legible figure squeezed into a 250 px box is caught; beside it, the
    same figure at its own size passes."""
    (site / "_images" / "plot.png").write_bytes(_figure_png(6.0, 9))
    body = (
        '<img src="../_images/plot.png" alt="own size">'
        '<div style="width:250px"><img src="../_images/plot.png" alt="squeezed" '
        'style="max-width:100%"></div>'
    )
    (site / "book" / "page.html").write_text(_page(CLEAN_BODY + body))
    problems, _ = check_book.check_book(site, ["book/page"], chromium=CHROMIUM)
    # only the figure check is under test here (math typesetting has its own tests above; on
    # this page MathJax was seen unfinished within the virtual time once, in CI under load)
    figures = [p for p in problems if p.kind == "figure"]
    assert len(figures) == 1, problems
    assert "shown at 250 px" in figures[0].detail
    assert not list((site / "book").glob(check_book.MEASURED_PAGE_PREFIX + "*"))  # cleaned up
