"""The upload box names every format that ingest reads."""

import pytest
from django.urls import reverse
from django.utils.html import escape

pytestmark = pytest.mark.django_db

# What the ingest package (analysis/automl/ingest/) detects from the content (see its docstring).
FORMATS = ("CSV", "delimited text", "JSON Lines", "gzip", "bz2", "zip", "Excel .xlsx", "Parquet")


def test_it_names_every_format_ingest_reads_on_the_upload_box(owner_client):
    page = owner_client.get(reverse("home")).content.decode()
    label = page.split('for="id_file">', 1)[1].split("</label>", 1)[0]
    assert [f for f in FORMATS if escape(f) not in label] == []
