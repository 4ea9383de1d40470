"""Helpers of the browser tests: full-page screenshots at each width (the `shoot` fixture
keeps them in test-artifacts/, the readable-pages tests in their own directory), and
checks that something stays on screen at phone width."""

from pathlib import Path

WIDTHS = (1280, 390)
HEIGHT = {1280: 800, 390: 844}


def shots(page, directory: Path, name: str) -> list[Path]:
    """Full-page screenshots of `page` at 1280 and 390 px under `directory`; the page may
    never be wider than the screen. Leaves the page at 1280 px."""
    paths = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT[width]})
        path = directory / f"{name}-{width}.png"
        page.screenshot(path=path, full_page=True, animations="disabled")
        paths.append(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} at {width} px is {overflow} px wider than the screen"
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT[WIDTHS[0]]})
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
