"""The API's newer endpoints answer hostile input as the older ones do (test_hostile_inputs):
a 4xx in the one error format, never a 500. Bodies and query strings are generated."""

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from analysis.models import Run
from tests.unit.test_hostile_inputs import (
    assert_answered_with_a_sentence,
    hostile,
    hostile_tally,  # noqa: F401 (the module's share of the tally)
    huge,
    nasty_json_text,
    nasty_text,
    raw_bodies,
)

pytestmark = pytest.mark.django_db

READ_OPTIONS = {
    "delimiter": st.one_of(nasty_json_text, st.sampled_from([",", ";", "\t", "|"])),
    "encoding": st.one_of(nasty_json_text, st.sampled_from(["utf-8", "latin-1"])),
    "header_row": st.one_of(st.integers(), huge, nasty_json_text, st.none()),
    "sheet": st.one_of(nasty_json_text, st.integers()),
    "decimal": st.one_of(nasty_json_text, st.sampled_from([".", ","])),
}


@hostile
@given(body=raw_bodies(READ_OPTIONS))
def test_it_answers_any_reading_options_with_a_sentence(owner_client, profiled_dataset, body):
    response = owner_client.post(
        reverse("api_dataset_reread", args=[profiled_dataset.pk]),
        body,
        content_type="application/json",
    )
    assert_answered_with_a_sentence(response)


query_values = st.one_of(nasty_text, st.integers().map(str), huge.map(str))


@hostile
@given(
    query=st.dictionaries(
        st.sampled_from(["status", "dataset", "page", "page_size", "first", "second", "other"]),
        query_values,
    ),
    name=st.sampled_from(["api_runs", "api_datasets", "api_run_compare", "api_run_compare_runs"]),
)
def test_it_answers_any_query_string_with_a_sentence(owner_client, profiled_dataset, query, name):
    run = Run.objects.get_or_create(
        owner=profiled_dataset.owner, dataset=profiled_dataset, target="b"
    )[0]
    args = [] if name in ("api_runs", "api_datasets") else [run.pk]
    assert_answered_with_a_sentence(owner_client.get(reverse(name, args=args), query))
