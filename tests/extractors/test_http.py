import pytest

from extractors.errors import FatalSourceError, RetriableSourceError
from extractors.http import ApiClient, RetryPolicy, paginate_cursor, redact_url
from landing.window import Window

WINDOW = Window.parse("2026-10-01", "2026-10-04")
FAST = RetryPolicy(total=3, backoff_factor=0.01, backoff_max=0.05, timeout=(2, 5))
# The sandbox double (the `server` fixture) accepts these keys.
ADMIN_KEYS = {"openai": "sk-admin-canary-http-1", "anthropic": "sk-ant-admin01-canary-http-1"}
COSTS = "/v1/organization/costs"
OCT_2 = 1790899200  # 2026-10-02T00:00:00Z
COSTS_QUERY = {"start_time": OCT_2, "end_time": OCT_2 + 3 * 86400, "limit": 1}
BODY_FAULTS = ("truncated", "short_body", "drop")


def client(api, **kw) -> ApiClient:
    return ApiClient(source="openai", window=WINDOW, base_url=api.url, policy=FAST, **kw)


def openai_client(server, policy: RetryPolicy = FAST) -> ApiClient:
    return ApiClient(
        source="openai",
        window=WINDOW,
        base_url=server.url,
        headers={"Authorization": f"Bearer {ADMIN_KEYS['openai']}"},
        policy=policy,
    )


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
    api.route("/v1/x", lambda q, h: (200, {}, {"data": [1], "has_more": True, "next_page": None}))
    with pytest.raises(FatalSourceError, match="has_more is true but next_page is empty"):
        list(paginate_cursor(client(api), "/v1/x", {}, what="list"))


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_a_body_cut_mid_read_is_retried_and_the_answer_is_the_clean_one(server, kind):
    clean = openai_client(server).get_json(COSTS, COSTS_QUERY, what="costs")
    server.requests.clear()
    server.faults.add(COSTS, kind=kind, count=2)
    assert openai_client(server).get_json(COSTS, COSTS_QUERY, what="costs") == clean
    assert [r["fault"] for r in server.requests] == [kind, kind, None]


@pytest.mark.parametrize("kind", BODY_FAULTS)
def test_a_body_cut_through_every_retry_is_retriable_and_names_source_window_url(server, kind):
    server.faults.add(COSTS, kind=kind, count=10)
    with pytest.raises(RetriableSourceError) as caught:
        openai_client(server).get_json(COSTS, COSTS_QUERY, what="costs page 1")
    message = str(caught.value)
    assert "source=openai" in message and "window=[2026-10-01, 2026-10-04)" in message
    assert f"{COSTS}?start_time={OCT_2}" in message and "costs page 1" in message
    assert "after 3 retries" in message
    assert "Bearer" not in message and ADMIN_KEYS["openai"] not in message
    assert len(server.requests) == FAST.total + 1


def test_status_retries_and_body_retries_share_one_budget(server, sleeps):
    # Two 503s the session retries, then cut bodies: retry_total=3 allows 4 GETs in all.
    server.faults.add(COSTS, kind="503", count=2, retry_after=0)
    server.faults.add(COSTS, kind="drop", count=10)
    with pytest.raises(RetriableSourceError, match="body cut mid-read"):
        openai_client(server).get_json(COSTS, COSTS_QUERY, what="costs")
    assert [r["fault"] for r in server.requests] == ["503", "503", "drop", "drop"]
    # Body retries back off with the policy's factor, growing, capped at backoff_max.
    assert sleeps and all(0 < s <= FAST.backoff_max for s in sleeps) and sleeps == sorted(sleeps)


def test_a_stalled_answer_is_retried_within_the_read_timeout(server):
    quick = RetryPolicy(total=3, backoff_factor=0.01, backoff_max=0.05, timeout=(2, 0.3))
    clean = openai_client(server, quick).get_json(COSTS, COSTS_QUERY, what="costs")
    server.faults.add(COSTS, kind="timeout", count=1, stall=0.6)
    assert openai_client(server, quick).get_json(COSTS, COSTS_QUERY, what="costs") == clean


def _pages(server, **kw) -> list[list]:
    return [
        page["data"]
        for page in paginate_cursor(openai_client(server), COSTS, COSTS_QUERY, what=COSTS, **kw)
    ]


def test_an_empty_page_with_has_more_is_asked_again_then_the_real_page_lands(server):
    clean = _pages(server)
    assert len(clean) == 3 and all(clean)
    server.requests.clear()
    # The first page (no cursor yet) comes back empty twice; the later pages are asked
    # for with the cursor the real first page gave, exactly once each.
    server.faults.add(COSTS, kind="empty_page", count=2)
    assert _pages(server) == clean
    assert [r["fault"] for r in server.requests] == ["empty_page", "empty_page", None, None, None]
    assert [r["query"].get("page") for r in server.requests][:3] == [None, None, None]


def test_an_empty_page_that_repeats_its_own_cursor_is_asked_again(api):
    pages = {None: ("p2", [1]), "p2": ("p3", [2]), "p3": (None, [3])}
    glitches = iter([True, True, False])

    def handler(query, headers):
        cursor = query.get("page", [None])[0]
        if cursor == "p2" and next(glitches):
            return 200, {}, {"data": [], "has_more": True, "next_page": "p2"}
        following, data = pages[cursor]
        return 200, {}, {"data": data, "has_more": following is not None, "next_page": following}

    api.route("/v1/list", handler)
    assert [p["data"] for p in paginate_cursor(client(api), "/v1/list", {}, what="list")] == [
        [1],
        [2],
        [3],
    ]
    assert [r.query.get("page") for r in api.requests] == [None, ["p2"], ["p2"], ["p2"], ["p3"]]


def test_an_empty_has_more_page_for_ever_is_retriable_naming_source_page_window(api, sleeps):
    pages = {None: ("p2", [1]), "p2": ("p2", [])}

    def handler(query, headers):
        following, data = pages[query.get("page", [None])[0]]
        return 200, {}, {"data": data, "has_more": True, "next_page": following}

    api.route("/v1/list", handler)
    with pytest.raises(RetriableSourceError) as caught:
        list(paginate_cursor(client(api), "/v1/list", {}, what="list"))
    message = str(caught.value)
    assert "source=openai" in message and "window=[2026-10-01, 2026-10-04)" in message
    assert "list page 2" in message and "cursor 'p2'" in message
    assert "4 answers in a row were an empty page with has_more true" in message
    assert len(api.requests) == 1 + FAST.total + 1  # page 1, then page 2 and its retries


def test_a_page_that_repeats_a_cursor_already_followed_is_fatal_naming_the_cursor(api):
    # p3 sends the client back to p2: the pages would cycle for ever.
    pages = {None: ("p2", [1]), "p2": ("p3", [2]), "p3": ("p2", [3])}

    def handler(query, headers):
        following, data = pages[query.get("page", [None])[0]]
        return 200, {}, {"data": data, "has_more": True, "next_page": following}

    api.route("/v1/list", handler)
    seen = []
    with pytest.raises(FatalSourceError) as caught:
        for page in paginate_cursor(client(api), "/v1/list", {}, what="list"):
            seen.append(page["data"])
    message = str(caught.value)
    assert "source=openai" in message and "list page 3" in message
    assert "next_page 'p2' repeats the cursor that fetched page 2" in message
    assert seen == [[1], [2]]  # the page that loops is not passed on
    assert len(api.requests) == 3


def test_a_full_page_that_names_itself_as_next_is_fatal(api):
    api.route(
        "/v1/list",
        lambda q, h: (
            200,
            {},
            {"data": [1], "has_more": True, "next_page": q.get("page", ["p1"])[0]},
        ),
    )
    with pytest.raises(FatalSourceError, match="next_page 'p1' repeats the cursor that fetched"):
        list(paginate_cursor(client(api), "/v1/list", {}, what="list"))
    assert len(api.requests) == 2


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
