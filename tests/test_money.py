import pytest

from grants.core.money import MoneyError, format_money, money_input_value, parse_money


@pytest.mark.parametrize(
    ("text", "pence"),
    [
        ("5000", 500_000),
        ("£5,000", 500_000),
        ("5,000.50", 500_050),
        ("£ 5,000.5", 500_050),
        ("0.01", 1),
        ("1,234,567.89", 123_456_789),
        ("  12  ", 1_200),
        ("0", 0),
    ],
)
def test_parses_amounts_people_type(text: str, pence: int) -> None:
    assert parse_money(text) == pence


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-5", "Amount must not be negative"),
        ("£-5", "Amount must not be negative"),
        ("5.001", "Amount must not have more than two decimal places (pence)"),
        ("5,000.505", "Amount must not have more than two decimal places (pence)"),
        ("five pounds", "Enter an amount in pounds, like 5000 or £5,000.50"),
        ("1e5", "Enter an amount in pounds, like 5000 or £5,000.50"),
        ("5,00", "Enter an amount in pounds, like 5000 or £5,000.50"),
        ("$50", "Enter an amount in pounds, like 5000 or £5,000.50"),
        ("", "Enter an amount"),
        ("99999999999999999999", "Amount must be £1,000,000,000.00 or less"),
        ("1,000,000,000.01", "Amount must be £1,000,000,000.00 or less"),
    ],
)
def test_refuses_nonsense_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(MoneyError) as error:
        parse_money(text)
    assert str(error.value) == message


def test_formats_pence_as_pounds() -> None:
    assert format_money(500_000) == "£5,000.00"
    assert format_money(1) == "£0.01"
    assert format_money(-250) == "-£2.50"
    assert format_money(None) == ""


def test_input_value_round_trips() -> None:
    for pence in (0, 1, 99, 500_000, 500_050, 123_456_789):
        assert parse_money(money_input_value(pence)) == pence


@pytest.mark.parametrize(
    ("pence", "shown"),
    [
        (365_000, "3,650"),  # whole pounds: no ".00", as GOV.UK writes money
        (365_050, "3,650.50"),
        (365_005, "3,650.05"),
        (99, "0.99"),
        (0, "0"),
        (123_456_789, "1,234,567.89"),
        (-250, "-2.50"),
        (None, ""),
    ],
)
def test_input_value_is_grouped_like_the_money_people_read(pence: int | None, shown: str) -> None:
    assert money_input_value(pence) == shown


@pytest.mark.parametrize("pence", [0, 1, 99, 100, 365_000, 365_050, 100_000_00, 123_456_789, 100_000_000_000])
def test_what_is_shown_is_read_back_as_the_same_pence(pence: int) -> None:
    # The box's value, that value with the £ of the box's prefix typed in, and the value as pages show money.
    for text in (money_input_value(pence), f"£{money_input_value(pence)}", format_money(pence)):
        assert parse_money(text) == pence, text
