from pathlib import Path

import pytest

from qa.config import Config


def test_variables_are_parsed_and_options_win():
    config = Config.from_env({"QA_TARGET_CHARS": "300", "QA_BIGRAMS": "off", "QA_INDEX_DIR": "/tmp/x"}, port=9000)
    assert (config.target_chars, config.bigrams, config.index_dir, config.port) == (300, False, Path("/tmp/x"), 9000)


def test_an_empty_variable_means_the_default_except_where_empty_means_off():
    config = Config.from_env({"QA_MODEL": "", "QA_PORT": "", "QA_RATE_LIMIT": "", "QA_ADMIN_TOKEN": ""})
    assert config.model == Config().model and config.port == Config().port
    assert config.rate_limit == "" and config.admin_token == ""


@pytest.mark.parametrize("name, raw", [("QA_PORT", "eighty"), ("QA_NPROBE", "-5"), ("QA_EF_SEARCH", "-1"),
                                       ("QA_DELTA_FROM", "-1"), ("QA_BIGRAMS", "maybe"),
                                       ("QA_TODAY", "15/06/2025")])
def test_a_bad_value_names_the_variable(name, raw):
    with pytest.raises(ValueError, match=name):
        Config.from_env({name: raw})


def test_today_is_configurable_for_repeatable_answers():
    assert Config.from_env({"QA_TODAY": "2025-06-15"}).today == "2025-06-15" and Config.from_env({}).today == ""
