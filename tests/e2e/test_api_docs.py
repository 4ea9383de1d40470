"""Chromium: the interactive API docs draw every endpoint from this site's own files, under
the Content-Security-Policy, and a signed-in user can call the API from them."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_docs_draw_every_endpoint_from_local_files(app_page, traffic, violations):
    app_page.goto("/api/docs/")
    expect(app_page.get_by_role("heading", name=re.compile("PROMISE API"))).to_be_visible()
    expect(app_page.locator(".opblock-summary-path", has_text="/api/runs/").first).to_be_visible()
    assert app_page.locator(".opblock").count() >= 25
    assert any("swagger-ui-bundle.js" in path for path in traffic.static)
    assert set(traffic.static.values()) == {200}
    assert not violations, violations


def test_a_signed_in_user_calls_the_api_from_the_docs(signed_in, violations):
    page = signed_in
    page.goto("/api/docs/")
    operation = page.locator(".opblock-get", has=page.locator("[data-path='/api/runs/']"))
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(
        operation.locator(".live-responses-table tbody .response-col_status").first
    ).to_have_text("200")
    expect(operation.locator(".live-responses-table .microlight").first).to_contain_text('"count"')
    assert not violations, violations


def test_a_user_makes_uses_and_revokes_a_token(signed_in, violations, shoot):
    page = signed_in
    page.get_by_role("link", name="API tokens").click()
    page.get_by_label("Name").fill("nightly report")
    page.get_by_role("button", name="Create token").click()
    key = page.get_by_label("Token").input_value()
    shoot(page, "api-tokens")
    headers = {"Authorization": f"Token {key}"}
    # A fresh request context: no session cookie, only the token.
    api = page.context.browser.new_context().request
    assert api.get(f"{page.url.split('/accounts')[0]}/api/datasets/", headers=headers).ok

    page.get_by_role("button", name="Revoke nightly report").click()
    expect(page.get_by_role("status")).to_contain_text("Revoked “nightly report”")
    assert api.get(f"{page.url.split('/accounts')[0]}/api/datasets/", headers=headers).status == 401
    assert not violations, violations
