"""Option types are checked up front, naming source and key; URL credentials never print."""

import os
import re
import socket
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from extractors import run_source
from extractors.config import SourceConfig, load_sources
from extractors.errors import (
    ConfigError,
    FatalSourceError,
    RetriableSourceError,
    redact_url,
    redact_urls,
)

REPO = Path(__file__).resolve().parents[2]
CANARY = "Canary-Pw-7f3e91"


def write_config(tmp_path: Path, options: str) -> Path:
    """A sources file of one OpenAI source with ``options`` (YAML lines)."""
    config = tmp_path / "sources.yml"
    config.write_text(
        "sources:\n  - name: openai_main\n    type: openai\n    options:\n"
        "      api_key: {env: TEST_OPENAI_KEY}\n"
        + "".join(f"      {line}\n" for line in options.strip().splitlines()),
        encoding="utf-8",
    )
    return config


def args(tmp_path: Path, config: Path) -> list[str]:
    return [
        "--config",
        str(config),
        "--source",
        "openai_main",
        "--start",
        "2026-10-01",
        "--end",
        "2026-10-02",
        "--landing",
        str(tmp_path / "landing"),
        "--quarantine",
        str(tmp_path / "quarantine"),
        "-v",
    ]


def cli(tmp_path: Path, options: str) -> subprocess.CompletedProcess:
    """``python -m extractors`` in a subprocess: what a person at a shell sees."""
    return subprocess.run(
        [sys.executable, "-m", "extractors", *args(tmp_path, write_config(tmp_path, options))],
        cwd=REPO,
        env={**os.environ, "TEST_OPENAI_KEY": "sk-test"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_wrong_option_type_in_a_shell_is_one_line_without_a_traceback(tmp_path):
    done = cli(tmp_path, "base_url: http://127.0.0.1:9\nretry_total: many")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "error: source 'openai_main': option 'retry_total' must be an integer number of "
        "retries from 0 to 100, got 'many'"
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ('timeout: "30s"', "option 'timeout' must be a number of seconds > 0.*got '30s'"),
        ("timeout: -1", "option 'timeout' must be a number of seconds > 0.*got -1"),
        ("timeout: [5]", r"option 'timeout' must be .*\[connect, read\] pair"),
        ("lookback_days: 100000000", "option 'lookback_days' must be an integer .* 0 to 400"),
        ("retry_total: many", "option 'retry_total' must be an integer .*got 'many'"),
        ("retry_backoff_factor: fast", "option 'retry_backoff_factor' must be a number"),
        ("retry_after_max: .nan", "option 'retry_after_max' must be a number"),
        ("page_limit: 0", "option 'page_limit' must be an integer from 1"),
        ("page_limit: 2.5", "option 'page_limit' must be an integer from 1"),
        ("allow_added_columns: maybe", "option 'allow_added_columns' must be true or false"),
    ],
)
def test_a_wrong_option_type_names_source_and_key(tmp_path, capsys, monkeypatch, option, message):
    from extractors.__main__ import EXIT_CONFIG, main

    monkeypatch.setenv("TEST_OPENAI_KEY", "sk-test")
    config = write_config(tmp_path, f"base_url: http://127.0.0.1:9\n{option}")
    assert main(args(tmp_path, config)) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("error: source 'openai_main': "), err
    assert re.search(message, err), err
    assert not (tmp_path / "landing" / "openai_main").exists()  # rejected before any work


@pytest.mark.parametrize(
    ("source_type", "options", "key"),
    [
        ("prometheus_dcgm", {"base_url": "http://x", "chunk_hours": "a day"}, "chunk_hours"),
        ("prometheus_dcgm", {"base_url": "http://x", "step_seconds": True}, "step_seconds"),
        ("litellm", {"dsn": {"env": "D"}, "connect_timeout": "10"}, "connect_timeout"),
        ("litellm", {"dsn": {"env": "D"}, "block_size_mib": 0}, "block_size_mib"),
        ("anthropic", {"base_url": "x", "api_key": {"env": "K"}}, "base_url"),
        ("focus", {"path": "/x", "lookback_days": 401}, "lookback_days"),
    ],
)
def test_every_source_type_checks_its_numeric_options(tmp_path, source_type, options, key):
    from extractors.base import extractor_class

    with pytest.raises(ConfigError, match=f"source 'x': option '{key}' must be"):
        extractor_class(source_type).validate_options("x", options)


def test_a_single_number_timeout_is_connect_and_read():
    from extractors.http import RetryPolicy

    assert RetryPolicy.from_options({"timeout": 30}).timeout == (30.0, 30.0)
    assert RetryPolicy.from_options({"timeout": [3, 60]}).timeout == (3.0, 60.0)


def test_redact_url_removes_userinfo_and_credential_query_values():
    assert redact_url(f"https://user:{CANARY}@host/v1?api_key=k&limit=2") == (
        "https://***@host/v1?api_key=***&limit=2"
    )
    assert redact_url(f"https://user:pa/ss@{CANARY}@host/v1") == "https://***@host/v1"
    text = f"could not reach 'postgresql://app:{CANARY}@db:5432/x' nor https://{CANARY}@h/"
    assert CANARY not in redact_urls(text) and "db:5432/x" in redact_urls(text)


def test_source_errors_and_config_errors_redact_whatever_they_are_given():
    error = FatalSourceError(
        f"GET https://u:{CANARY}@h/v1 failed", source="s", record=f"https://u:{CANARY}@h/v1"
    )
    assert CANARY not in str(error) and CANARY not in error.record and CANARY not in error.detail
    assert CANARY not in str(ConfigError(f"bad base_url 'ftp://u:{CANARY}@h'"))


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed once the probe is: connections are refused


def test_a_password_in_base_url_never_reaches_a_failed_requests_error(tmp_path):
    url = f"http://finops:{CANARY}@127.0.0.1:{_closed_port()}/v1"
    source = SourceConfig(
        "openai_main",
        "openai",
        {"base_url": url, "api_key": {"env": "TEST_OPENAI_KEY"}, "retry_total": 0},
    )
    os.environ.setdefault("TEST_OPENAI_KEY", "sk-test")
    with pytest.raises(RetriableSourceError) as caught:
        run_source(
            source,
            date(2026, 10, 1),
            date(2026, 10, 2),
            landing_root=tmp_path / "l",
            quarantine_root=tmp_path / "q",
        )
    assert caught.value.record.startswith("http://***@127.0.0.1:")
    assert CANARY not in str(caught.value) and CANARY not in caught.value.record


def test_a_password_in_base_url_never_reaches_the_clis_output(tmp_path):
    done = cli(
        tmp_path,
        f"base_url: http://finops:{CANARY}@127.0.0.1:{_closed_port()}/v1\nretry_total: 0",
    )
    assert done.returncode == 75, done.stderr  # retriable: nobody answered
    assert "record=http://***@127.0.0.1:" in done.stderr
    assert CANARY not in done.stdout + done.stderr
    bad = cli(tmp_path, f"base_url: ftp://finops:{CANARY}@127.0.0.1/v1")
    assert bad.returncode == 2 and "option 'base_url' must be an http(s) URL" in bad.stderr
    assert CANARY not in bad.stdout + bad.stderr


def test_a_config_file_with_credentials_loads_and_keeps_them_for_the_request(tmp_path):
    # Redaction is for messages only: the option itself still carries the credential.
    config = tmp_path / "s.yml"
    config.write_text(
        "sources:\n  - {name: p, type: prometheus_dcgm, options: {base_url: 'http://u:pw@h:9090'}}\n",
        encoding="utf-8",
    )
    assert load_sources(config, env={})[0].options["base_url"] == "http://u:pw@h:9090"
