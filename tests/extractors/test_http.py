import pytest

from extractors.errors import FatalSourceError, RetriableSourceError
from extractors.http import ApiClient, RetryPolicy, paginate_cursor, redact_url
from extractors.window import Window

WINDOW = Window.parse("2026-10-01", "2026-10-04")
FAST = RetryPolicy(total=3, backoff_factor=0.01, backoff_max=0.05, timeout=(2, 5))


def client(api, **kw) -> ApiClient:
    return ApiClient(source="openai", window=WINDOW, base_url=api.url, policy=FAST, **kw)


def test_cursor_paging_follows_next_page_until_has_more_is_false(api):
    pages = {None: ("p2", [1, 2]), "p2": ("p3", [3]), "p3": (None, [4, 5])}

    def handler(query, headers):
        cursor = query.get("page", [None])[0]
        following, data = pages[cursor]
        return (
            200,
            {},
            {
                "object": "page",
                "data": data,
                "has_more": following is not None,
                "next_page": following,
            },
        )

    api.route("/v1/list", handler)
    seen = [
        page["data"]
        for page in paginate_cursor(
            client(api), "/v1/list", {"group_by": ["a", "b"], "limit": 2}, what="list"
        )
    ]
    assert seen == [[1, 2], [3], [4, 5]]
    assert [r.query.get("page") for r in api.requests] == [None, ["p2"], ["p3"]]
    # Lists are sent as repeated parameters, and every page repeats the query.
    assert all(r.query["group_by"] == ["a", "b"] for r in api.requests)


def test_429_with_retry_after_is_waited_out_then_succeeds(api, sleeps):
    answers = iter(
        [
            (429, {"Retry-After": "7"}, {"error": {"message": "Rate limit reached"}}),
            (200, {}, {"ok": True}),
        ]
    )
    api.route("/v1/x", lambda q, h: next(answers))
    assert client(api).get_json("/v1/x", {}, what="x") == {"ok": True}
    assert len(api.requests) == 2
    assert 7 in sleeps  # the server's Retry-After, not our own backoff


def test_5xx_until_retries_are_used_up_is_retriable_and_names_source_window_url(api, sleeps):
    api.route("/v1/x", lambda q, h: (503, {}, {"error": {"message": "The server is overloaded"}}))
    with pytest.raises(RetriableSourceError) as caught:
        client(api).get_json("/v1/x", {"start_time": 1}, what="costs page 1")
    message = str(caught.value)
    assert "source=openai" in message and "window=[2026-10-01, 2026-10-04)" in message
    assert "/v1/x?start_time=1" in message and "HTTP 503" in message
    assert "The server is overloaded" in message
    assert len(api.requests) == FAST.total + 1


def test_401_is_fatal_at_once_with_the_api_message(api, sleeps):
    api.route(
        "/v1/x",
        lambda q, h: (
            401,
            {},
            {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}},
        ),
    )
    with pytest.raises(FatalSourceError, match="HTTP 401: Incorrect API key provided"):
        client(api).get_json("/v1/x", {}, what="x")
    assert len(api.requests) == 1


def test_a_page_that_is_not_json_names_the_page(api):
    api.route("/v1/x", lambda q, h: (200, {"Content-Type": "text/html"}, b"<html>gateway</html>"))
    with pytest.raises(RetriableSourceError, match=r"list page 1: response is not JSON"):
        list(paginate_cursor(client(api), "/v1/x", {}, what="list"))


def test_has_more_without_next_page_is_fatal_not_an_endless_loop(api):
    api.route("/v1/x", lambda q, h: (200, {}, {"data": [], "has_more": True, "next_page": None}))
    with pytest.raises(FatalSourceError, match="has_more is true but next_page is empty"):
        list(paginate_cursor(client(api), "/v1/x", {}, what="list"))


def test_connection_refused_is_retriable(sleeps):
    dead = ApiClient(source="gpu", window=WINDOW, base_url="http://127.0.0.1:9", policy=FAST)
    with pytest.raises(RetriableSourceError, match=r"source=gpu .* no answer after 3 retries"):
        dead.get_json("/api/v1/query_range", {}, what="query")


def test_user_agent_is_sent_and_credentials_in_urls_are_redacted(api):
    api.route("/v1/x", lambda q, h: (200, {}, {}))
    client(api).get_json("/v1/x", {}, what="x")
    assert api.requests[0].headers["user-agent"].startswith("costbridge-extractors/")
    assert (
        redact_url("http://h/p?api_key=sk-123&limit=5&access_token=t")
        == "http://h/p?api_key=***&limit=5&access_token=***"
    )
