"""Pages load only local assets, and static files ship compressed and cache-busted.

The external-URL check reads what a browser would fetch: `src`, `href`, `action`,
`srcset` and `poster` attributes in templates and HTML files, `url(...)` and `@import`
in CSS, and any absolute URL at all in our own JavaScript. Vendored minified libraries
(static/js/vendor/) mention URLs in comments and strings (licence headers, error
messages) that are never fetched, so only their CSS-like `url(...)` is not scanned
there; the browser tests' request guard covers what they actually load.
"""

import re
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"
VENDOR = STATIC / "js" / "vendor"

EXTERNAL = r"(?:[a-z][a-z0-9+.-]*:)?//"  # http://, https://, protocol-relative //host
ATTRIBUTE = re.compile(
    r"""\b(?:src|href|action|srcset|poster)\s*=\s*["']?\s*""" + EXTERNAL, re.IGNORECASE
)
CSS_URL = re.compile(r"""(?:url\(\s*["']?\s*|@import\s+["'])""" + EXTERNAL, re.IGNORECASE)
JS_URL = re.compile(r"""["'`]\s*(?:https?:)?//[a-z0-9]""", re.IGNORECASE)


def external_urls(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    patterns = []
    if path.suffix in (".html", ".txt", ".xml", ".svg"):
        patterns = [ATTRIBUTE, CSS_URL]
    elif path.suffix == ".css":
        patterns = [CSS_URL]
    elif path.suffix == ".js" and VENDOR not in path.parents:
        patterns = [JS_URL, ATTRIBUTE]
    found = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path}:{line}: {text[match.start() : match.end() + 40]}")
    return found


def asset_files() -> list[Path]:
    return sorted(p for root in (TEMPLATES, STATIC) for p in root.rglob("*") if p.is_file())


def test_it_finds_no_external_url_in_templates_or_static_files():
    found = [hit for path in asset_files() for hit in external_urls(path)]

    assert not found, "External URLs:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.example.com/x.js"></script>',
        "<link href='//fonts.example.com/css' rel=stylesheet>",
        "<img src=http://example.com/a.png>",
        '<style>body { background: url("https://example.com/bg.png"); }</style>',
    ],
)
def test_the_check_catches_an_external_url(tmp_path, snippet):
    page = tmp_path / "page.html"
    page.write_text(snippet)

    assert external_urls(page)


def test_the_check_passes_local_urls(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<script src="/static/js/x.js"></script><a href="#top">top</a>')

    assert not external_urls(page)


def test_it_ships_static_files_compressed_and_with_hashed_names(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

    call_command("collectstatic", "--noinput", verbosity=0)

    css = [p.name for p in (tmp_path / "css").iterdir()]
    assert any(re.fullmatch(r"promise\.[0-9a-f]{12}\.css", n) for n in css), css
    assert any(re.fullmatch(r"promise\.[0-9a-f]{12}\.css\.(gz|br)", n) for n in css), css
    assert (tmp_path / "staticfiles.json").exists()
