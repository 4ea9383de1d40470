import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_it_signs_up_and_logs_the_new_user_in(client, django_user_model):
    response = client.post(
        reverse("signup"),
        {"username": "ada", "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"},
    )
    assert response.status_code == 302
    assert django_user_model.objects.filter(username="ada").exists()
    assert client.get(reverse("home")).status_code == 200


def test_it_explains_mismatched_passwords(client):
    response = client.post(
        reverse("signup"), {"username": "ada", "password1": "a-long-pass", "password2": "other"}
    )
    assert response.status_code == 200
    assert b"didn" in response.content  # "The two password fields didn't match."


def test_it_logs_in_and_out(client, owner):
    response = client.post(reverse("login"), {"username": "owner", "password": "owner-pass-123"})
    assert response.status_code == 302
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302
