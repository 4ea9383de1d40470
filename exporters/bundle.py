"""Write the export zip: the rendered files, the model files, and a MANIFEST of checksums."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

from .render import render_files
from .spec import ExportSpec

MANIFEST = "MANIFEST"


def build_bundle(spec: ExportSpec, zip_path: Path) -> list[str]:
    """Write the export of `spec` to `zip_path`; return the names of the files in it.

    Every file sits at the top of the zip, so it runs where it is unzipped. MANIFEST
    lists the SHA-256 checksum of every other file in `sha256sum` format; the scripts
    check the model files against it before loading them. Entries carry the spec's
    generation time, so the same spec and model files give the same zip.
    """
    contents: dict[str, bytes] = {
        name: text.encode("utf-8") for name, text in render_files(spec).items()
    }
    for path in map(Path, spec.model_files):
        contents[path.name] = path.read_bytes()
    contents[MANIFEST] = manifest(contents).encode("utf-8")

    moment = dt.datetime.fromisoformat(spec.generated_at)
    stamp = (max(moment.year, 1980), *moment.timetuple()[1:6])
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(zip_path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            entry = zipfile.ZipInfo(name, date_time=stamp)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    # A reader never sees a half-written zip under the final name.
    partial.replace(zip_path)
    return list(contents)


def manifest(contents: dict[str, bytes]) -> str:
    """`sha256sum`-style lines, `<hex digest>  <name>`, sorted by name."""
    return "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(contents.items())
    )
