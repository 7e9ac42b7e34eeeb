from pathlib import Path

import pytest

from extractors.config import get_source, load_sources
from extractors.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(text)
    return path


def test_demo_config_loads_with_env_defaults(monkeypatch):
    env = {"COSTBRIDGE_SANDBOX_DIR": "/data/sandbox"}
    sources = load_sources(REPO / "config" / "sources.demo.yml", env=env)
    assert [s.name for s in sources] == [
        "aws_focus",
        "openai",
        "anthropic",
        "litellm_proxy",
        "gpu_cluster",
        "ds_gpu_box",
        "app_traces",
        "feature_kpis",
    ]
    assert get_source(sources, "aws_focus").options["path"] == "/data/sandbox/focus"
    openai = get_source(sources, "openai")
    assert openai.options["base_url"] == "https://api.openai.com"
    assert openai.options["api_key"] == {"env": "OPENAI_ADMIN_KEY", "airflow_conn": "openai_admin"}
    assert get_source(sources, "gpu_cluster").options["base_url"] == "http://127.0.0.1:9090"


def test_env_value_overrides_default_and_dollar_escapes(tmp_path):
    path = write(
        tmp_path,
        """
sources:
  - name: kpis
    type: value_file
    options: {path: "${DIR:-/nowhere}/value$$x"}
""",
    )
    assert load_sources(path, env={"DIR": "/here"})[0].options["path"] == "/here/value$x"
    assert load_sources(path, env={})[0].options["path"] == "/nowhere/value$x"


def test_unset_variable_without_default_names_source_and_variable(tmp_path):
    path = write(
        tmp_path, "sources:\n  - {name: kpis, type: value_file, options: {path: '${NOPE}'}}\n"
    )
    with pytest.raises(ConfigError, match=r"source 'kpis' options.path: environment variable NOPE"):
        load_sources(path, env={})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{name: x, type: nosuch}", "unknown source type 'nosuch'"),
        ("{name: Bad-Name, type: value_file, options: {path: /x}}", "lower_snake_case"),
        ("{name: x, type: value_file, options: {}}", r"missing options \['path'\]"),
        (
            "{name: x, type: value_file, options: {path: /x, colour: red}}",
            r"unknown options \['colour'\]",
        ),
        (
            "{name: x, type: openai, options: {base_url: http://x, api_key: {env: K}, "
            "datasets: [images]}}",
            "unknown datasets",
        ),
        (
            "{name: x, type: openai, options: {base_url: http://x, api_key: sk-plain}}",
            "must name where the secret lives",
        ),
        ("{name: x, type: focus, options: {path: /x, lookback_days: -1}}", "lookback_days"),
    ],
)
def test_invalid_sources_give_clear_errors(tmp_path, entry, message):
    path = write(tmp_path, f"sources:\n  - {entry}\n")
    with pytest.raises(ConfigError, match=message):
        load_sources(path, env={})


def test_duplicate_names_and_unknown_source_lookup(tmp_path):
    path = write(
        tmp_path,
        """
sources:
  - {name: a, type: value_file, options: {path: /x}}
  - {name: a, type: value_file, options: {path: /y}}
""",
    )
    with pytest.raises(ConfigError, match="duplicate source name 'a'"):
        load_sources(path, env={})
    with pytest.raises(ConfigError, match=r"no source named 'b' \(configured: a\)"):
        get_source(
            load_sources(
                write(tmp_path, "sources:\n  - {name: a, type: value_file, options: {path: /x}}\n"),
                env={},
            ),
            "b",
        )
