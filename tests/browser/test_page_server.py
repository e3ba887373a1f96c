"""The page server (opastin/web.py) over HTTP, without Rasa: pages, headers, refused input."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from opastin.page_texts import load_page_texts
from opastin.web import make_app, websocket_origin
from tests.aiohttp_server import serve
from tools.servers import free_port

SOCKET_URL = "http://127.0.0.1:5005"
TEXTS = load_page_texts()


@pytest.fixture(scope="module")
def page(browser_tools) -> Iterator[str]:
    with serve(make_app(SOCKET_URL), "127.0.0.1", free_port()) as url:
        yield url


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_chat_page_names_the_socket_and_language(page):
    status, headers, body = get(page + "/?lang=fi")
    assert status == 200
    assert '<html lang="fi" dir="ltr">' in body
    assert f'data-socket-url="{SOCKET_URL}"' in body
    assert "{{" not in body
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert f"connect-src 'self' {SOCKET_URL} ws://127.0.0.1:5005;" in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_right_to_left_languages_get_dir_rtl(page):
    assert '<html lang="ar" dir="rtl">' in get(page + "/?lang=ar")[2]
    assert '<html lang="fa" dir="rtl">' in get(page + "/?lang=fa")[2]


def test_page_words_and_language_links_come_from_the_texts_file(page):
    body = get(page + "/?lang=uk")[2]
    uk = TEXTS["uk"]
    assert f"<title>{uk.title}</title>" in body and f"<p>{uk.intro}</p>" in body
    assert f'<nav aria-label="{uk.languages}">' in body
    for code, texts in TEXTS.items():
        current = ' aria-current="page"' if code == "uk" else ""
        attributes = f'href="/?lang={code}" hreflang="{code}" lang="{code}" dir="{texts.dir}"'
        assert f"<a {attributes}{current}>{texts.name}</a>" in body


def test_a_language_without_page_texts_is_404_with_the_list(page):
    status, _, body = get(page + "/?lang=de")
    assert status == 404
    assert "no page in language 'de'" in body and "en, fi, sv" in body


@pytest.mark.parametrize("lang", ["<script>", "english", "F", ""])
def test_a_bad_language_is_refused_with_400(page, lang):
    status, _, body = get(f"{page}/?lang={urllib.request.quote(lang)}")
    assert status == 400
    assert "two-letter language code" in body


def test_example_page_is_complete(page):
    status, _, body = get(page + "/example")
    assert status == 200
    assert '<html lang="fi">' in body
    assert f'data-socket-url="{SOCKET_URL}"' in body and "{{" not in body
    assert 'src="/static/vendor/webchat.js"' in body


def test_widget_is_served_locally_without_the_internet_font(page):
    status, _, body = get(page + "/static/vendor/webchat.js")
    assert status == 200 and len(body) > 500_000
    assert "window" in body and "fonts.googleapis" not in body
    assert get(page + "/static/opastin-widget.js")[0] == 200


def test_unknown_paths_are_404(page):
    assert get(page + "/static/../opastin/web.py")[0] == 404
    assert get(page + "/api/message")[0] in (404, 405)


@pytest.mark.parametrize(
    "url",
    ["ftp://x", "http://", 'http://x"><script>', "http://host/path", "http://h?q=1", "host:5005"],
)
def test_socket_url_must_be_an_origin(url):
    with pytest.raises(ValueError, match="socket URL"):
        websocket_origin(url)


def test_socket_url_origins():
    assert websocket_origin("https://opastin.example.fi") == "wss://opastin.example.fi"
    assert websocket_origin("http://[::1]:5005/") == "ws://[::1]:5005"
