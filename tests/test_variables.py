"""Variables: environment variables read typed, each failure one line naming the variable."""

import re

import pytest

from platform_assets.errors import ConfigurationError
from platform_assets.variables import Variables


def one_line_error(call) -> str:
    with pytest.raises(ConfigurationError) as raised:
        call()
    text = str(raised.value)
    assert "\n" not in text
    return text


def test_get_strips_the_value_and_treats_unset_or_blank_as_the_default():
    variables = Variables({"A": "  value \n", "BLANK": "   ", "EMPTY": ""})
    assert variables.get("A") == "value"
    assert variables.get("BLANK") is None
    assert variables.get("EMPTY", "fallback") == "fallback"
    assert variables.get("UNSET", "fallback") == "fallback"
    assert variables.get("UNSET") is None


def test_variables_keep_a_copy_so_later_changes_to_the_mapping_do_not_show():
    values = {"A": "1"}
    variables = Variables(values)
    values["A"] = "2"
    values["B"] = "3"
    assert variables.get("A") == "1"
    assert variables.get("B") is None


def test_required_gives_the_value_or_says_who_needs_the_variable():
    variables = Variables({"PLATFORM_X": " x ", "PLATFORM_BLANK": " "})
    assert variables.required("PLATFORM_X", "the test") == "x"
    assert one_line_error(lambda: variables.required("PLATFORM_Y", "PLATFORM_ENV=aws")) == (
        "PLATFORM_ENV=aws needs PLATFORM_Y"
    )
    assert one_line_error(lambda: variables.required("PLATFORM_BLANK", "the test")) == (
        "the test needs PLATFORM_BLANK"
    )


def test_choice_takes_the_default_when_unset_and_refuses_anything_else_exactly():
    choices = ("local", "aws")
    assert Variables({}).choice("PLATFORM_ENV", choices, "local") == "local"
    assert Variables({"PLATFORM_ENV": " aws "}).choice("PLATFORM_ENV", choices, "local") == "aws"
    assert one_line_error(
        lambda: Variables({"PLATFORM_ENV": "AWS"}).choice("PLATFORM_ENV", choices, "local")
    ) == ("PLATFORM_ENV='AWS' is not one of local, aws")


def test_matching_needs_the_variable_and_a_match_of_the_pattern():
    pattern = re.compile(r"^arn:[a-z]+$")
    assert Variables({"V": "arn:x"}).matching("V", pattern, "an ARN", "the test") == "arn:x"
    assert one_line_error(lambda: Variables({}).matching("V", pattern, "an ARN", "the test")) == (
        "the test needs V"
    )
    assert one_line_error(
        lambda: Variables({"V": "arn:X1"}).matching("V", pattern, "an ARN", "the test")
    ) == ("V='arn:X1' is not an ARN")


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1.5", 1.5), (" 2 ", 2.0), ("0", 0.0), ("1e3", 1000.0)],
)
def test_seconds_reads_a_non_negative_number(value, seconds):
    assert Variables({"S": value}).seconds("S", 7.0) == seconds


def test_seconds_is_the_default_when_unset_or_blank():
    assert Variables({}).seconds("S", 7.5) == 7.5
    assert Variables({"S": "  "}).seconds("S", 7.5) == 7.5


@pytest.mark.parametrize("value", ["-1", "-0.5", "ten", "10s", "1,5"])
def test_seconds_refuses_negative_or_non_numeric_values_naming_the_variable(value):
    message = one_line_error(
        lambda: Variables({"PLATFORM_POLL": value}).seconds("PLATFORM_POLL", 1)
    )
    assert message == f"PLATFORM_POLL={value!r} is not a number of seconds"


def test_seconds_refuses_nan():
    one_line_error(lambda: Variables({"S": "nan"}).seconds("S", 1))


def test_port_reads_digits_or_takes_the_default():
    assert Variables({"P": " 5439 "}).port("P", 1) == 5439
    assert Variables({}).port("P", 5439) == 5439
    assert Variables({"P": ""}).port("P", 5439) == 5439


@pytest.mark.parametrize("value", ["-1", "54.39", "port", "5439x"])
def test_port_refuses_anything_but_digits_naming_the_variable(value):
    message = one_line_error(lambda: Variables({"P": value}).port("P", 5439))
    assert message == f"P={value!r} is not a port number"


def test_port_refuses_a_number_above_65535():
    one_line_error(lambda: Variables({"P": "70000"}).port("P", 5439))


@pytest.mark.parametrize(
    ("value", "default", "expected"),
    [("true", False, True), ("FALSE", True, False), (" True ", False, True), (None, True, True)],
)
def test_flag_reads_true_or_false_in_any_case_or_takes_the_default(value, default, expected):
    values = {} if value is None else {"F": value}
    assert Variables(values).flag("F", default) is expected


def test_flag_refuses_other_words_naming_the_variable():
    assert one_line_error(lambda: Variables({"F": "yes"}).flag("F", True)) == (
        "F='yes' must be true or false"
    )


def test_with_prefix_keeps_the_matching_variables_exactly_as_they_are():
    variables = Variables(
        {
            "PLATFORM_HOME": " /x ",
            "AWS_REGION": "eu-west-1",
            "AWS_EMPTY": "",
            "XPLATFORM_HOME": "no",
            "HOME": "no",
            "platform_home": "no",
        }
    )
    assert variables.with_prefix("PLATFORM_", "AWS_") == {
        "PLATFORM_HOME": " /x ",
        "AWS_REGION": "eu-west-1",
        "AWS_EMPTY": "",
    }
    assert variables.with_prefix("AWS_") == {"AWS_REGION": "eu-west-1", "AWS_EMPTY": ""}
