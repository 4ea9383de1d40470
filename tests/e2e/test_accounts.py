"""Sign up, log out and log in again, in Chromium."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "quiet-harbour-2718"


def test_a_new_user_signs_up_logs_out_and_logs_in_again(app_page, traffic, shoot, live_server):
    page = app_page
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/accounts/signup/$"))
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    shoot(page, "signup")

    page.get_by_label("Username").fill("ada")
    page.get_by_label(re.compile(r"^Password:?$")).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # The same answer whether or not the name was free: log in with the password chosen.
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("status")).to_contain_text("Now log in as “ada”")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("ada")
    expect(page.get_by_role("heading", name="Find the best model for a table")).to_be_visible()
    expect(page.get_by_label("Table file:")).to_be_visible()
    expect(page.get_by_text("No datasets yet")).to_be_visible()
    shoot(page, "home-empty")

    # The stylesheet and htmx come from the live server itself, and they load.
    assert traffic.static.get("/static/css/promise.css") == 200, traffic.static
    assert traffic.static.get("/static/js/vendor/htmx.min.js") == 200, traffic.static
    assert page.evaluate("typeof window.htmx") == "object"
    assert (
        page.evaluate("getComputedStyle(document.querySelector('header.topbar')).display")
        != "inline"
    ), "promise.css did not apply"

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    shoot(page, "login")

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/$"))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("form .errorlist, form ul.errorlist")).to_contain_text(
        "enter a correct username and password"
    )
    shoot(page, "login-error")

    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("navigation", name="Account")).to_contain_text("ada")
    assert not traffic.failed, traffic.failed
