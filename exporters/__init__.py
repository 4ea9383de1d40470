"""Code export: an `ExportSpec` of plain data in, a zip of readable Python and model files out.

    spec.py    ExportSpec: everything the export states about one trained candidate
    render.py  the Jinja2 environment, `render_files(spec)` for previews, and
               `render_parts(template, ...)`, how a model family writes its own code
    bundle.py  `build_bundle(spec, zip_path)`: rendered files, model files and MANIFEST

Nothing here imports the AutoML core or Django; `analysis.automl.export.export_spec`
builds the spec from a run folder.
"""

from .bundle import build_bundle
from .render import render_files, render_parts
from .spec import ExportSpec

__all__ = ["ExportSpec", "build_bundle", "render_files", "render_parts"]
