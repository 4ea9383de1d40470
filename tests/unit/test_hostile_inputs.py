"""No input makes a 500: every endpoint and form answers a hostile body with a 4xx and a
sentence. Bodies are generated (hypothesis): deep nesting, wrong JSON types, huge
numbers, NUL bytes and lone surrogates, over-long names, unknown fields."""

import io
import json
from collections import Counter
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import services
from analysis.automl.discovery import train_candidate
from analysis.automl.prepare import prepare_run
from analysis.automl.profile import profile_table
from analysis.models import CandidateResult, Dataset, Run
from tests.conftest import churn_frame

pytestmark = pytest.mark.django_db

# No example database: nothing is written into the working tree.
hostile = settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HUGE_NUMBERS = [1e308, -1e308, 3.5e38, 1e20, 10**20, 10**400, -(10**30), 2**63]
huge = st.sampled_from(HUGE_NUMBERS)
# Text with the characters that break storage and encodings: NUL, control characters,
# path separators, and long runs; in JSON, a lone surrogate too (a "\\ud800" escape; no
# form can carry one, as it cannot be encoded).
nasty_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from("\x00\x1f/\\.é\u202e a,=\n"), max_size=30),
    st.integers(1, 3000).map(lambda n: "y" * n + ".csv"),
)
nasty_json_text = nasty_text | st.text(alphabet=st.sampled_from("\ud800\udfffa\x00"), max_size=5)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    huge,
    st.floats(allow_nan=False, allow_infinity=False),
    nasty_json_text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(nasty_json_text, children),
    max_leaves=12,
)


def objects_with(fields: dict) -> st.SearchStrategy:
    """JSON objects with some of the endpoint's own fields (any value, or a plausible
    one), sometimes an unknown field too."""
    return st.fixed_dictionaries(
        {},
        optional={
            **{name: st.one_of(json_values, plausible) for name, plausible in fields.items()},
            "unknown": json_values,
        },
    )


def deeply_nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def raw_bodies(fields: dict) -> st.SearchStrategy:
    """What a client may send as the text of a JSON body."""
    return st.one_of(
        objects_with(fields).map(json.dumps),
        json_values.map(json.dumps),
        st.sampled_from([10, 999, 1500, 100_000]).map(deeply_nested),
        st.sampled_from([10, 2000]).map(lambda d: '{"rows": ' + deeply_nested(d) + "}"),
        st.sampled_from(['{"name": "\\ud800.csv", "size": 5}', '{"\\udfff": 1}', "[1,2]"]),
        st.text(max_size=40),
    )


# Every hostile input's answer, by status class. Each module using the tally writes its
# share to test-artifacts/hostile-inputs/<module>.json (the figures of the hardening note:
# inputs tried, 5xx answers).
TALLY: Counter = Counter()
TALLY_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "hostile-inputs"


@pytest.fixture(scope="module", autouse=True)
def hostile_tally(request):
    before = TALLY.copy()
    yield
    tried = TALLY - before
    TALLY_DIR.mkdir(parents=True, exist_ok=True)
    share = {"inputs": sum(tried.values()), **dict(sorted(tried.items()))}
    (TALLY_DIR / f"{request.module.__name__}.json").write_text(json.dumps(share) + "\n")


def assert_answered_with_a_sentence(response) -> None:
    TALLY[f"{response.status_code // 100}xx"] += 1
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400 and response["Content-Type"].startswith("application/json"):
        body = response.json()
        sentence = body.get("error") or body.get("detail") if isinstance(body, dict) else None
        assert isinstance(sentence, str) and len(sentence.split()) >= 2, body


@pytest.fixture(scope="session")
def model_dirs(tmp_path_factory) -> dict[str, str]:
    """The linear model and a decision tree (float32 inside) trained once on a churn table."""
    folder = tmp_path_factory.mktemp("hostile-models")
    path = folder / "churn.csv"
    churn_frame(rows=200).to_csv(path, index=False)
    plan = prepare_run(
        path, folder / "run", profile=profile_table(path), target="churned", max_rows=None, seed=3
    )
    return {
        name: train_candidate(folder / "run", plan, name, time_limit=3).model_dir
        for name in ("linear", "decision_tree")
    }


@pytest.fixture
def trained(owner, profiled_dataset, model_dirs) -> list[CandidateResult]:
    """The two models as the candidates of one of the owner's finished runs."""
    run = Run.objects.create(
        owner=owner, dataset=profiled_dataset, target="churned", status=Run.Status.SUCCEEDED
    )
    return [
        CandidateResult.objects.create(
            run=run,
            name=name,
            label=name,
            status=CandidateResult.Status.SUCCEEDED,
            model_dir=model_dir,
        )
        for name, model_dir in model_dirs.items()
    ]


FEATURES = {"tenure": 12, "monthly_charges": 70.5, "plan": "basic", "signup_date": "2021-05-01"}


def prediction_bodies() -> st.SearchStrategy:
    row = st.fixed_dictionaries(
        {}, optional={name: st.one_of(scalars, st.just(value)) for name, value in FEATURES.items()}
    )
    return st.one_of(
        raw_bodies({"rows": st.lists(row, max_size=3)}),
        st.lists(row, min_size=1, max_size=3).map(lambda rows: json.dumps({"rows": rows})),
    )


@hostile
@given(body=prediction_bodies())
def test_it_answers_any_prediction_body_with_a_sentence(owner_client, trained, body):
    for candidate in trained:
        response = owner_client.post(
            reverse("api_predict", args=[candidate.pk]), body, content_type="application/json"
        )
        assert_answered_with_a_sentence(response)


RUN_SETTINGS = {
    "target": st.sampled_from(["a", "b", "nope", "a\x00"]),
    "task": st.sampled_from(["", "regression", "bogus"]),
    "sample_size": st.one_of(st.integers(), huge),
    "time_budget": st.one_of(st.integers(), huge),
    "excluded_columns": st.lists(nasty_json_text, max_size=3),
    "sample_strategy": st.sampled_from(["random", "stratified", "time_based", "bogus"]),
    "time_column": nasty_json_text,
    "metric": st.sampled_from(["", "r2", "bogus", "log_loss"]),
}


@hostile
@given(body=raw_bodies(RUN_SETTINGS))
def test_it_answers_any_run_settings_with_a_sentence(owner_client, profiled_dataset, body):
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]), body, content_type="application/json"
    )
    assert_answered_with_a_sentence(response)


@hostile
@given(body=raw_bodies({"name": nasty_json_text, "size": st.one_of(st.integers(), huge)}))
def test_it_answers_any_upload_opening_with_a_sentence(owner_client, body):
    response = owner_client.post(reverse("api_upload_begin"), body, content_type="application/json")
    assert_answered_with_a_sentence(response)


@hostile
@given(body=raw_bodies({}), which=st.sampled_from(["api_run_finish", "api_candidate_confirm"]))
def test_it_answers_any_body_to_the_run_actions(owner_client, trained, body, which):
    pk = trained[0].run_id if which == "api_run_finish" else trained[0].pk
    response = owner_client.post(reverse(which, args=[pk]), body, content_type="application/json")
    assert_answered_with_a_sentence(response)


@hostile
@given(name=nasty_text, fields=st.dictionaries(st.sampled_from(["note", "file2"]), nasty_text))
def test_it_answers_any_uploaded_file_name_with_a_sentence(owner_client, name, fields):
    for url in (reverse("api_datasets"), reverse("dataset_upload")):
        upload = io.BytesIO(b"a,b\n1,2\n")
        upload.name = name  # as sent; SimpleUploadedFile would refuse some names itself
        response = owner_client.post(url, {"file": upload, **fields})
        assert_answered_with_a_sentence(response)


form_values = st.one_of(
    nasty_text, st.integers().map(str), huge.map(str), st.sampled_from(["1e20", "-1", "nan"])
)


@hostile
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            field: form_values
            for field in (
                "target",
                "task",
                "metric",
                "sample",
                "custom_rows",
                "sample_strategy",
                "time_column",
                "time_budget",
                "excluded_columns",
            )
        },
    )
)
def test_it_answers_any_run_form_with_a_sentence(owner_client, profiled_dataset, data):
    response = owner_client.post(reverse("dataset_detail", args=[profiled_dataset.pk]), data)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert b'class="errorlist' in response.content or b'class="error' in response.content


@hostile
@given(
    data=st.fixed_dictionaries(
        {},
        optional={
            f: form_values for f in ("delimiter", "encoding", "header_row", "sheet", "decimal")
        },
    )
)
def test_it_answers_any_reading_options_with_a_sentence(owner_client, profiled_dataset, data):
    response = owner_client.post(reverse("dataset_reprofile", args=[profiled_dataset.pk]), data)
    assert response.status_code == 302
    page = owner_client.get(response["Location"])
    assert page.status_code < 500


@hostile
@given(data=st.fixed_dictionaries({}, optional={c: form_values for c in FEATURES}))
def test_it_answers_any_prediction_form_with_a_sentence(owner_client, trained, data):
    for candidate in trained:
        response = owner_client.post(reverse("candidate_predict", args=[candidate.pk]), data)
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert b'role="alert"' in response.content


@hostile
@given(query=st.dictionaries(st.sampled_from(["other", "first", "second"]), form_values))
def test_it_answers_any_comparison_query(owner_client, trained, query):
    run_pk = trained[0].run_id
    for name in ("run_compare", "run_compare_runs"):
        response = owner_client.get(reverse(name, args=[run_pk]), query)
        assert response.status_code in (200, 302, 400, 404)


# The inputs that answered 500 before, one by one.


def test_it_refuses_a_body_nested_100000_deep_naming_the_limit(owner_client, trained):
    response = owner_client.post(
        reverse("api_predict", args=[trained[0].pk]),
        deeply_nested(100_000),
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "nests arrays or objects too deep" in response.json()["error"]


def test_it_refuses_a_list_where_an_object_is_expected(owner_client, trained):
    response = owner_client.post(
        reverse("api_predict", args=[trained[0].pk]), [1, 2], content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["error"] == "Send a JSON object."


def test_it_refuses_a_number_beyond_float32_for_a_tree(owner_client, trained):
    tree = trained[1]
    row = {**FEATURES, "monthly_charges": 1e308}

    response = owner_client.post(
        reverse("api_predict", args=[tree.pk]), {"rows": [row]}, content_type="application/json"
    )

    assert response.status_code == 400
    (message,) = response.json()["fields"]["monthly_charges"]
    assert message.startswith("this value is too large")


def test_it_refuses_a_number_beyond_float32_on_the_prediction_page(owner_client, trained):
    tree = trained[1]

    response = owner_client.post(
        reverse("candidate_predict", args=[tree.pk]), {**FEATURES, "tenure": "1e308"}
    )

    assert response.status_code == 400
    assert "The value of &#x27;tenure&#x27; is too large" in response.content.decode()


def test_it_refuses_a_sample_of_1e20_rows_through_the_api(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        {"target": "b", "sample_size": 10**20},
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "A sample has at most 1,000,000,000,000 rows" in response.json()["error"]
    assert not Run.objects.exists()


def test_it_refuses_a_sample_of_1e20_rows_through_the_form(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("dataset_detail", args=[profiled_dataset.pk]),
        {"target": "b", "sample": "custom", "custom_rows": str(10**20), "time_budget": 60},
    )

    assert response.status_code == 400
    assert "A sample has at most 1,000,000,000,000 rows" in response.content.decode()
    assert not Run.objects.exists()


def test_it_refuses_an_unknown_metric_naming_the_ones_it_knows(owner_client, profiled_dataset):
    response = owner_client.post(
        reverse("api_run_start", args=[profiled_dataset.pk]),
        {"target": "b", "metric": "bogus"},
        content_type="application/json",
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert '"bogus" is not a metric PROMISE ranks by' in error and "r2" in error
    assert not Run.objects.exists()


def test_it_refuses_a_run_to_compare_with_that_is_not_a_number(owner_client, trained):
    response = owner_client.get(
        reverse("run_compare_runs", args=[trained[0].run_id]), {"other": "abc"}
    )

    assert response.status_code == 400
    assert "Choose the run to compare with by its number" in response.content.decode()


def test_it_refuses_a_lone_surrogate_in_a_json_body(owner_client):
    response = owner_client.post(
        reverse("api_upload_begin"),
        '{"name": "\\ud800.csv", "size": 10}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert "lone surrogate" in response.json()["error"]


def test_it_refuses_a_header_row_past_the_first_million_lines(owner_client, profiled_dataset):
    url = reverse("dataset_reprofile", args=[profiled_dataset.pk])

    page = owner_client.post(url, {"header_row": "1000000000"}, follow=True)

    assert "The header row must be one of the file&#x27;s first 1,000,000 lines" in (
        page.content.decode()
    )
    profiled_dataset.refresh_from_db()
    assert profiled_dataset.status == "ready" and profiled_dataset.read_options == {}


@pytest.mark.parametrize("url", ["dataset_upload", "api_datasets"])
def test_it_stores_a_1000_character_name_twice(owner_client, url):
    name = "y" * 1000 + ".csv"

    for _ in range(2):
        upload = SimpleUploadedFile(name, b"a,b\n1,2\n")
        assert owner_client.post(reverse(url), {"file": upload}).status_code in (201, 302)

    first, second = Dataset.objects.order_by("pk")
    assert first.file.name != second.file.name
    assert all(len(Path(d.file.name).name.encode()) <= 110 for d in (first, second))
    assert first.name == second.name == "y" * 251 + ".csv"


def test_it_finishes_a_chunked_upload_of_a_1000_character_name_twice(owner_client):
    for _ in range(2):
        opened = owner_client.post(
            reverse("api_upload_begin"),
            {"name": "é" * 1000 + ".csv", "size": 8},
            content_type="application/json",
        ).json()
        owner_client.put(
            opened["url"] + "?offset=0", b"a,b\n1,2\n", content_type="application/octet-stream"
        )
        assert owner_client.post(opened["finish_url"]).status_code == 201

    assert [len(Path(d.file.name).name.encode()) <= 110 for d in Dataset.objects.all()] == [
        True,
        True,
    ]


def test_a_header_row_past_the_end_of_the_file_fails_the_read_with_a_sentence(
    profiled_dataset,
):
    services.dataset_reprofile(dataset=profiled_dataset, options={"header_row": 500})

    services.dataset_profile(dataset_id=profiled_dataset.pk)

    profiled_dataset.refresh_from_db()
    assert profiled_dataset.status == "failed"
    assert profiled_dataset.error.startswith(
        "Line 500 was chosen as the header, but the file has only 2 lines"
    )
