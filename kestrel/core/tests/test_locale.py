"""PLT-3: Chinese first; English only when chosen (pages) or asked for (API)."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_plt3_pages_are_chinese_even_for_an_english_browser(client):
    response = client.get("/accounts/login/", headers={"accept-language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    assert 'lang="zh-hans"' in response.content.decode()


def test_plt3_english_when_the_user_switched(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert 'lang="en"' in client.get("/accounts/login/").content.decode()


def test_plt3_unknown_language_cookie_falls_back_to_chinese(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "xx-evil"
    assert 'lang="zh-hans"' in client.get("/accounts/login/").content.decode()


def test_plt3_api_errors_are_chinese_by_default_and_english_on_request(client):
    chinese = client.get("/api/v1/employees").json()["message"]
    english = client.get("/api/v1/employees", headers={"accept-language": "en"}).json()["message"]
    assert chinese != english
    assert english == "Authentication is required."
