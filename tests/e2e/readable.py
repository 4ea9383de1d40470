"""Helpers of the browser tests: full-page screenshots at each width (the `shoot` fixture
keeps them in test-artifacts/, the readable-pages tests in their own directory), and
checks that something stays on screen at phone width."""

from pathlib import Path

WIDTHS = (1280, 390)
HEIGHT = {1280: 800, 390: 844}


# Every chart on screen drawn at its box's current width. plotly.js redraws a responsive
# chart 100 ms after the window's resize event; until then its SVG keeps the old width,
# and while a redraw is pending or under way the chart holds _resolveResize (plotly.js's
# Plots.resize deletes it once the relayout is done). A chart in a closed <details> is
# drawn only when it opens (static/js/charts.js), and one not shown is not redrawn by
# plotly.js: neither is waited for.
_CHARTS_DRAWN = """() => [...document.querySelectorAll("[data-figure]")].every(el => {
    if (el.closest("details:not([open])") || !el.getClientRects().length) return true;
    const svg = el.querySelector(".main-svg");
    if (!svg || el._resolveResize) return false;
    return Math.abs(svg.getBoundingClientRect().width - el.getBoundingClientRect().width) <= 1;
})"""
# Two animation frames: the resize event of a new viewport size is dispatched before the
# next frame's callbacks, so after them a redraw it causes has been scheduled.
_NEXT_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"


def resize(page, width: int) -> None:
    """Set the viewport to `width` px and wait until plotly.js has redrawn every chart
    shown for it (no-op on pages without charts)."""
    page.set_viewport_size({"width": width, "height": HEIGHT[width]})
    page.evaluate(_NEXT_FRAMES)
    page.wait_for_function(_CHARTS_DRAWN)


def shots(page, directory: Path, name: str) -> list[Path]:
    """Full-page screenshots of `page` at 1280 and 390 px under `directory`, each taken
    once the charts are drawn for that width; the page may never be wider than the
    screen. Leaves the page at 1280 px."""
    paths = []
    for width in WIDTHS:
        resize(page, width)
        path = directory / f"{name}-{width}.png"
        page.screenshot(path=path, full_page=True, animations="disabled")
        paths.append(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the screen"
    resize(page, WIDTHS[0])
    return paths


def within_screen(locator, width: int) -> bool:
    """Whether the element is shown and lies between 0 and `width` px horizontally."""
    box = locator.bounding_box()
    return (
        box is not None and box["width"] > 0 and box["x"] >= 0 and box["x"] + box["width"] <= width
    )


def scrolls_sideways(locator) -> int:
    """How many px the element's content is wider than the element (0: no sideways scroll)."""
    return locator.evaluate("el => el.scrollWidth - el.clientWidth")
