"""Tests of form validation: every field kind, every error at once, conditions, definitions."""

from __future__ import annotations

from datetime import date, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportdesk import from_data, to_data
from supportdesk._errors import ValidationError
from supportdesk._models import DependentOptions, FieldKind, FieldSpec, FieldValue, RequestType
from supportdesk.forms import (
    CleanedSubmission,
    Submission,
    check_fields,
    describe_form,
    field_text,
    validate_submission,
)


def form(*fields: FieldSpec, description_required: bool = False) -> RequestType:
    return RequestType(
        desk_id="desk", name="Incident", fields=fields, description_required=description_required
    )


def one(spec: FieldSpec, value: object) -> FieldValue:
    """Validate a submission holding only ``value`` for ``spec``; return its cleaned value."""
    cleaned = validate_submission(form(spec), Submission(summary="S", fields={spec.key: value}))
    return cleaned.fields.get(spec.key)


def refusal(spec: FieldSpec, value: object) -> str:
    """The message ``spec`` gives for ``value``; fails if the value is accepted."""
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(spec), Submission(summary="S", fields={spec.key: value}))
    assert list(caught.value.errors) == [spec.key]
    return caught.value.errors[spec.key]


SHORT = FieldSpec(key="username", label="Username")
LONG = FieldSpec(key="steps", label="Steps", kind=FieldKind.LONG_TEXT)
CHOICE = FieldSpec(key="state", label="State", kind=FieldKind.CHOICE, options=("CA", "NY"))
MULTI = FieldSpec(
    key="files", label="Files", kind=FieldKind.MULTI_CHOICE, options=("834", "835", "837")
)
NUMBER = FieldSpec(key="count", label="Count", kind=FieldKind.NUMBER, min_value=1, max_value=10)
DATE = FieldSpec(key="since", label="Since", kind=FieldKind.DATE)
EMAIL = FieldSpec(key="cc", label="Copy to", kind=FieldKind.EMAIL)
YES_NO = FieldSpec(key="urgent", label="Urgent?", kind=FieldKind.YES_NO)


# --- summary and description ------------------------------------------------


def test_summary_and_description_are_stripped() -> None:
    cleaned = validate_submission(
        form(), Submission(summary="  Missing data \n", description=" x ")
    )
    assert cleaned == CleanedSubmission(summary="Missing data", description="x", fields={})


@pytest.mark.parametrize("summary", ["", "   ", "\n\t"])
def test_blank_summary_is_missing(summary: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(), Submission(summary=summary))
    assert caught.value.errors == {"summary": "Enter a summary."}


def test_summary_max_length_counts_after_stripping() -> None:
    assert validate_submission(form(), Submission(summary=" " + "a" * 255 + " ")).fields == {}
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(), Submission(summary="a" * 256))
    assert caught.value.errors == {"summary": "Use at most 255 characters."}


def test_description_required_per_request_type() -> None:
    assert validate_submission(form(), Submission(summary="S")).fields == {}
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(description_required=True), Submission(summary="S"))
    assert caught.value.errors == {"description": "Enter a description."}
    with pytest.raises(ValidationError):
        validate_submission(
            form(description_required=True), Submission(summary="S", description="  ")
        )


# --- several errors at once --------------------------------------------------


def test_every_error_is_reported_at_once() -> None:
    request_type = form(
        FieldSpec(key="username", label="Username", required=True),
        CHOICE,
        NUMBER,
        description_required=True,
    )
    submission = Submission(summary=" ", fields={"state": "TX", "count": "11", "bogus": 1})
    with pytest.raises(ValidationError) as caught:
        validate_submission(request_type, submission)
    assert caught.value.errors == {
        "summary": "Enter a summary.",
        "description": "Enter a description.",
        "username": "Enter a value.",
        "state": "Choose one of: CA, NY.",
        "count": "Enter a number no greater than 10.",
        "bogus": "Unknown field.",
    }
    assert "count: Enter a number no greater than 10." in str(caught.value)


def test_cleaned_values_are_typed() -> None:
    request_type = form(SHORT, LONG, CHOICE, MULTI, NUMBER, DATE, EMAIL, YES_NO)
    raw: dict[str, object] = {
        "username": " jdoe ",
        "steps": "1. log in\n2. look",
        "state": "NY",
        "files": ["837", "834"],
        "count": "3",
        "since": "2026-01-05",
        "cc": "ops@example.org",
        "urgent": "Yes",
    }
    assert validate_submission(request_type, Submission(summary="S", fields=raw)).fields == {
        "username": "jdoe",
        "steps": "1. log in\n2. look",
        "state": "NY",
        "files": ("834", "837"),
        "count": 3,
        "since": date(2026, 1, 5),
        "cc": "ops@example.org",
        "urgent": True,
    }


@pytest.mark.parametrize("spec", [SHORT, LONG, CHOICE, MULTI, NUMBER, DATE, EMAIL, YES_NO])
@pytest.mark.parametrize("empty", [None, "", "  ", []])
def test_optional_fields_left_empty_are_omitted(spec: FieldSpec, empty: object) -> None:
    assert (
        validate_submission(form(spec), Submission(summary="S", fields={spec.key: empty})).fields
        == {}
    )
    assert validate_submission(form(spec), Submission(summary="S")).fields == {}


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (FieldKind.SHORT_TEXT, "Enter a value."),
        (FieldKind.LONG_TEXT, "Enter a value."),
        (FieldKind.CHOICE, "Choose an option."),
        (FieldKind.MULTI_CHOICE, "Choose at least one option."),
        (FieldKind.NUMBER, "Enter a value."),
        (FieldKind.DATE, "Enter a date."),
        (FieldKind.EMAIL, "Enter an e-mail address."),
        (FieldKind.YES_NO, "Answer yes or no."),
    ],
)
def test_required_fields_must_be_filled(kind: FieldKind, message: str) -> None:
    spec = FieldSpec(key="f", label="F", kind=kind, required=True, options=("A",))
    assert refusal(spec, None) == message
    assert refusal(spec, "  ") == message
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(spec), Submission(summary="S"))
    assert caught.value.errors == {"f": message}


def test_a_required_yes_no_may_be_answered_no() -> None:
    spec = FieldSpec(key="f", label="F", kind=FieldKind.YES_NO, required=True)
    assert one(spec, False) is False
    assert one(spec, "no") is False


# --- unknown and internal fields ----------------------------------------------


INTERNAL = FieldSpec(key="root_cause", label="Root cause", internal=True)


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(SHORT), Submission(summary="S", fields={"nope": "x"}))
    assert caught.value.errors == {"nope": "Unknown field."}


def test_internal_fields_look_unknown_to_customers() -> None:
    submission = Submission(summary="S", fields={"root_cause": "disk"})
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(INTERNAL), submission)
    assert caught.value.errors == {"root_cause": "Unknown field."}
    assert validate_submission(form(INTERNAL), submission, staff=True).fields == {
        "root_cause": "disk"
    }


def test_required_internal_fields_bind_staff_only() -> None:
    required = FieldSpec(key="root_cause", label="Root cause", internal=True, required=True)
    assert validate_submission(form(required), Submission(summary="S")).fields == {}
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(required), Submission(summary="S"), staff=True)
    assert caught.value.errors == {"root_cause": "Enter a value."}


def test_describe_form_shows_internal_fields_to_staff_only() -> None:
    request_type = form(SHORT, INTERNAL, CHOICE)
    assert describe_form(request_type) == (SHORT, CHOICE)
    assert describe_form(request_type, staff=True) == (SHORT, INTERNAL, CHOICE)


def test_a_stray_field_named_summary_keeps_the_summary_error() -> None:
    with pytest.raises(ValidationError) as caught:
        validate_submission(form(), Submission(summary="", fields={"summary": "x"}))
    assert caught.value.errors == {"summary": "Enter a summary."}


def test_submission_fields_are_a_read_only_copy() -> None:
    raw: dict[str, object] = {"username": "a"}
    submission = Submission(summary="S", fields=raw)
    raw["username"] = "b"
    assert submission.fields == {"username": "a"}
    with pytest.raises(TypeError):
        submission.fields["username"] = "c"  # type: ignore[index]


# --- short and long text --------------------------------------------------------


ONE_LINE = st.characters(
    exclude_categories=("Cs",),
    exclude_characters="\x00\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
)
"""Characters a short text takes: no lone surrogate, NUL or line break (any str.splitlines
breaks at)."""


@given(st.text(ONE_LINE, max_size=80).map(str.strip).filter(bool))
def test_short_text_within_max_length_is_always_accepted(text: str) -> None:
    spec = FieldSpec(key="name", label="Name", max_length=80)
    assert one(spec, text) == text


@given(st.text(min_size=81).filter(lambda text: len(text.strip()) > 80))
def test_short_text_over_max_length_is_always_refused(text: str) -> None:
    spec = FieldSpec(key="name", label="Name", max_length=80)
    assert refusal(spec, text) == "Use at most 80 characters."


def test_short_text_defaults_to_255_characters() -> None:
    assert one(SHORT, "a" * 255) == "a" * 255
    assert refusal(SHORT, "a" * 256) == "Use at most 255 characters."


def test_short_text_pattern_must_match_whole_value() -> None:
    spec = FieldSpec(
        key="medicaid_id", label="Medicaid ID", pattern=r"\d{8}", help_text="Use 8 digits."
    )
    assert one(spec, " 12345678 ") == "12345678"
    assert refusal(spec, "123456789") == "Enter a value in the expected format. Use 8 digits."
    assert refusal(spec, "x12345678") == "Enter a value in the expected format. Use 8 digits."


@pytest.mark.parametrize("spec", [SHORT, LONG])
@pytest.mark.parametrize("value", [12, 1.5, True, ["a"], date(2026, 1, 1)])
def test_text_fields_refuse_other_types(spec: FieldSpec, value: object) -> None:
    assert refusal(spec, value) == "Enter text."


def test_long_text_has_no_limit_unless_set() -> None:
    assert one(LONG, "a" * 100_000) == "a" * 100_000
    limited = FieldSpec(key="steps", label="Steps", kind=FieldKind.LONG_TEXT, max_length=10)
    assert refusal(limited, "a" * 11) == "Use at most 10 characters."


# --- choice and multi-choice --------------------------------------------------


def test_choice_takes_one_of_its_options() -> None:
    assert one(CHOICE, " CA ") == "CA"
    assert refusal(CHOICE, "ca") == "Choose one of: CA, NY."
    assert refusal(CHOICE, ["CA"]) == "Choose one of: CA, NY."


def test_multi_choice_takes_a_list_or_a_single_string() -> None:
    assert one(MULTI, ["835"]) == ("835",)
    assert one(MULTI, ("837", "834")) == ("834", "837")
    assert one(MULTI, "837") == ("837",)


def test_multi_choice_refuses_unknown_duplicate_and_odd_values() -> None:
    assert refusal(MULTI, ["834", "999"]) == "Choose only from: 834, 835, 837."
    assert refusal(MULTI, ["834", "834"]) == "Choose each option only once."
    assert refusal(MULTI, [834]) == "Choose from: 834, 835, 837."
    assert refusal(MULTI, 834) == "Choose from: 834, 835, 837."


@given(st.lists(st.sampled_from(MULTI.options), unique=True, min_size=1))
def test_multi_choice_returns_options_in_form_order(picked: list[str]) -> None:
    cleaned = one(MULTI, picked)
    assert cleaned == tuple(option for option in MULTI.options if option in picked)


# --- number ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3, 3), (2.5, 2.5), ("7", 7), (" +4 ", 4), ("1.5", 1.5), ("1e1", 10.0), (".5e1", 5.0)],
)
def test_number_accepts_numbers_and_numeric_strings(raw: object, expected: float) -> None:
    cleaned = one(NUMBER, raw)
    assert cleaned == expected
    assert type(cleaned) is type(expected)


@pytest.mark.parametrize("raw", [True, False, "abc", "1_000", "nan", "inf", "1e400", "٣", [1]])
def test_number_refuses_what_is_not_a_plain_number(raw: object) -> None:
    assert refusal(NUMBER, raw) == "Enter a number."


def test_number_bounds() -> None:
    assert one(NUMBER, 1) == 1
    assert one(NUMBER, 10) == 10
    assert refusal(NUMBER, 0) == "Enter a number no less than 1."
    assert refusal(NUMBER, "10.5") == "Enter a number no greater than 10."
    fractional = FieldSpec(key="n", label="N", kind=FieldKind.NUMBER, max_value=2.5)
    assert refusal(fractional, 3) == "Enter a number no greater than 2.5."


@given(st.integers(min_value=1, max_value=10))
def test_numbers_within_bounds_are_accepted_as_text_too(number: int) -> None:
    assert one(NUMBER, str(number)) == number


# --- date, e-mail, yes/no -----------------------------------------------------------


def test_date_accepts_dates_and_iso_strings() -> None:
    assert one(DATE, date(2026, 2, 28)) == date(2026, 2, 28)
    assert one(DATE, " 2026-02-28 ") == date(2026, 2, 28)


@pytest.mark.parametrize("raw", ["28/02/2026", "20260228", "2026-W09-6", 20260228, True])
def test_date_refuses_other_formats(raw: object) -> None:
    assert refusal(DATE, raw) == "Enter a date as YYYY-MM-DD."


def test_date_refuses_days_that_do_not_exist_and_datetimes() -> None:
    assert refusal(DATE, "2026-02-30") == "Enter a date that exists, as YYYY-MM-DD."
    assert refusal(DATE, datetime(2026, 2, 28, 12, 0)) == "Enter a date as YYYY-MM-DD."


@given(st.dates())
def test_any_date_round_trips_through_iso_text(day: date) -> None:
    if day.year >= 1000:  # YYYY needs four digits
        assert one(DATE, day.isoformat()) == day
    assert one(DATE, day) == day


@pytest.mark.parametrize("raw", ["ops@example.org", " a.b+c@mail.example.co.uk "])
def test_email_accepts_plausible_addresses(raw: str) -> None:
    assert one(EMAIL, raw) == raw.strip()


@pytest.mark.parametrize(
    "raw",
    [
        "ops",
        "@example.org",
        "ops@",
        "ops@example",
        "ops@@example.org",
        "o@ps@example.org",
        "ops @example.org",
        "ops@example..org",
        "ops@.example.org",
        "ops@example.org.",
    ],
)
def test_email_refuses_implausible_addresses(raw: str) -> None:
    assert refusal(EMAIL, raw) == "Enter an e-mail address like name@example.com."


def test_email_must_be_text() -> None:
    assert refusal(EMAIL, 42) == "Enter text."


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        ("yes", True),
        (" NO ", False),
        ("True", True),
        ("false", False),
    ],
)
def test_yes_no_accepts_booleans_and_words(raw: object, expected: bool) -> None:
    assert one(YES_NO, raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "y", 1, 0, ["yes"]])
def test_yes_no_refuses_anything_else(raw: object) -> None:
    assert refusal(YES_NO, raw) == "Answer yes or no."


def test_yes_no_takes_what_an_html_checkbox_sends() -> None:
    assert one(YES_NO, "on") is True
    assert one(YES_NO, " OFF ") is False


# --- conditional fields ------------------------------------------------------------


NO_ID = FieldSpec(key="no_customer_id", label="I don't know my customer id", kind=FieldKind.YES_NO)
CUSTOMER_ID = FieldSpec(
    key="customer_id", label="Customer ID", required=True, visible_when={"no_customer_id": ("no",)}
)
COMPANY = FieldSpec(
    key="company", label="Company", required=True, visible_when={"no_customer_id": ("yes",)}
)
PHONE = FieldSpec(
    key="phone",
    label="Phone",
    kind=FieldKind.NUMBER,
    visible_when={"no_customer_id": ("yes",), "state": ("NY",)},
)
SALESFORCE = form(NO_ID, CUSTOMER_ID, COMPANY, CHOICE, PHONE)


def fields_of(request_type: RequestType, **raw: object) -> dict[str, FieldValue]:
    return dict(validate_submission(request_type, Submission(summary="S", fields=raw)).fields)


def errors_of(request_type: RequestType, **raw: object) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        validate_submission(request_type, Submission(summary="S", fields=raw))
    return caught.value.errors


def test_an_unticked_checkbox_counts_as_no() -> None:
    assert errors_of(SALESFORCE) == {"customer_id": "Enter a value."}
    assert fields_of(SALESFORCE, customer_id="C-1") == {"customer_id": "C-1"}
    assert fields_of(SALESFORCE, no_customer_id="off", customer_id="C-1") == {
        "no_customer_id": False,
        "customer_id": "C-1",
    }


def test_a_field_is_required_only_while_it_is_shown() -> None:
    assert errors_of(SALESFORCE, no_customer_id="on") == {"company": "Enter a value."}
    assert fields_of(SALESFORCE, no_customer_id="on", company="Acme") == {
        "no_customer_id": True,
        "company": "Acme",
    }


def test_what_is_sent_for_a_hidden_field_is_ignored_not_stored() -> None:
    # A page that hid a field may still send what was typed into it before.
    cleaned = fields_of(SALESFORCE, no_customer_id="yes", company="Acme", customer_id="\ud800")
    assert cleaned == {"no_customer_id": True, "company": "Acme"}
    assert fields_of(SALESFORCE, customer_id="C-1", company="Acme", phone="x") == {
        "customer_id": "C-1"
    }


def test_every_condition_must_hold() -> None:
    base = {"no_customer_id": "yes", "company": "Acme"}
    assert fields_of(SALESFORCE, **base, state="CA", phone="12") == {
        "no_customer_id": True,
        "company": "Acme",
        "state": "CA",
    }
    assert fields_of(SALESFORCE, **base, state="NY", phone="12")["phone"] == 12
    assert errors_of(SALESFORCE, **base, state="NY", phone="twelve") == {"phone": "Enter a number."}


def test_every_error_is_reported_at_once_with_conditions() -> None:
    assert errors_of(SALESFORCE, no_customer_id="yes", state="TX", bogus="1") == {
        "company": "Enter a value.",
        "state": "Choose one of: CA, NY.",
        "bogus": "Unknown field.",
    }


def test_a_field_whose_controller_is_wrong_or_hidden_is_hidden_too() -> None:
    # The controller's own error says it all: what hangs on it is not judged.
    assert errors_of(SALESFORCE, no_customer_id="maybe", company="Acme") == {
        "no_customer_id": "Answer yes or no."
    }
    chained = form(
        NO_ID,
        COMPANY,
        FieldSpec(
            key="size",
            label="Size",
            kind=FieldKind.CHOICE,
            options=("small", "large"),
            visible_when={"no_customer_id": ("yes",)},
        ),
        FieldSpec(key="seats", label="Seats", required=True, visible_when={"size": ("large",)}),
    )
    assert fields_of(chained, size="large") == {}  # size is hidden, and so is seats
    assert errors_of(chained, no_customer_id="yes", company="A", size="large") == {
        "seats": "Enter a value."
    }


def test_a_multi_choice_condition_holds_when_any_named_option_is_picked() -> None:
    why = FieldSpec(key="why", label="Why 837?", required=True, visible_when={"files": ("837",)})
    request_type = form(MULTI, why)
    assert fields_of(request_type, files=["834"]) == {"files": ("834",)}
    assert errors_of(request_type, files=["834", "837"]) == {"why": "Enter a value."}


def test_internal_fields_may_depend_on_any_field_staff_see() -> None:
    internal = FieldSpec(
        key="cause", label="Cause", internal=True, required=True, visible_when={"state": ("CA",)}
    )
    request_type = form(CHOICE, internal)
    assert fields_of(request_type, state="CA") == {"state": "CA"}  # customers never see it
    submission = Submission(summary="S", fields={"state": "CA"})
    with pytest.raises(ValidationError) as caught:
        validate_submission(request_type, submission, staff=True)
    assert caught.value.errors == {"cause": "Enter a value."}


# --- dependent choices ---------------------------------------------------------------


PRODUCT = FieldSpec(
    key="product",
    label="Product",
    kind=FieldKind.CHOICE,
    required=True,
    options=("Claims Portal", "Eligibility API", "Other"),
)
CATEGORY = FieldSpec(
    key="category",
    label="Category",
    kind=FieldKind.CHOICE,
    required=True,
    options=("Access", "Data", "Billing"),
    options_by=DependentOptions(
        field="product",
        options={"Claims Portal": ("Access", "Data"), "Eligibility API": ("Billing", "Access")},
    ),
)
CASE = form(PRODUCT, CATEGORY)


def test_a_dependent_choice_offers_the_options_of_the_value_chosen() -> None:
    assert fields_of(CASE, product="Claims Portal", category="Data") == {
        "product": "Claims Portal",
        "category": "Data",
    }
    assert errors_of(CASE, product="Eligibility API", category="Data") == {
        "category": "Choose one of: Access, Billing."
    }
    assert errors_of(CASE, product="Claims Portal") == {"category": "Choose an option."}


def test_a_dependent_choice_is_hidden_until_its_parent_has_a_listed_value() -> None:
    assert errors_of(CASE, category="Data") == {"product": "Choose an option."}
    assert errors_of(CASE, product="Nope", category="Data") == {
        "product": "Choose one of: Claims Portal, Eligibility API, Other."
    }
    assert fields_of(CASE, product="Other", category="Data") == {"product": "Other"}


def test_a_dependent_multi_choice_keeps_its_options_order() -> None:
    areas = FieldSpec(
        key="areas",
        label="Areas",
        kind=FieldKind.MULTI_CHOICE,
        options=("Access", "Data", "Billing"),
        options_by=DependentOptions(field="product", options={"Other": ("Billing", "Access")}),
    )
    request_type = form(PRODUCT, areas)
    cleaned = fields_of(request_type, product="Other", areas=["Billing", "Access"])
    assert cleaned["areas"] == ("Access", "Billing")
    assert errors_of(request_type, product="Other", areas=["Data"]) == {
        "areas": "Choose only from: Access, Billing."
    }


# --- describing and checking a form --------------------------------------------------


def test_describe_form_takes_a_list_of_fields_and_carries_the_conditions() -> None:
    assert describe_form([NO_ID, INTERNAL, CUSTOMER_ID]) == (NO_ID, CUSTOMER_ID)
    described = to_data(describe_form(CASE))
    assert described[1]["options_by"] == {
        "field": "product",
        "options": {"Claims Portal": ["Access", "Data"], "Eligibility API": ["Billing", "Access"]},
    }
    assert to_data(CUSTOMER_ID)["visible_when"] == {"no_customer_id": ["no"]}
    assert from_data(to_data(CASE), RequestType) == CASE
    assert from_data(to_data(SALESFORCE), RequestType) == SALESFORCE


def test_field_text_reads_each_value_as_a_line() -> None:
    values: list[tuple[FieldValue, str]] = [
        (True, "yes"),
        (False, "no"),
        (date(2026, 1, 5), "2026-01-05"),
        (("834", "837"), "834, 837"),
        (3, "3"),
        (2.5, "2.5"),
        ("C-1", "C-1"),
        (None, ""),
    ]
    assert [field_text(value) for value, _ in values] == [text for _, text in values]


def test_a_sound_definition_passes() -> None:
    assert check_fields(SALESFORCE.fields) == SALESFORCE.fields
    assert check_fields(CASE.fields) == CASE.fields


DEFINITION_ERRORS: list[tuple[tuple[FieldSpec, ...], str]] = [
    ((SHORT, SHORT), "username: two fields share this key"),
    ((CUSTOMER_ID,), "customer_id: it depends on 'no_customer_id', which is no field of this form"),
    (
        (CUSTOMER_ID, NO_ID),
        "customer_id: it depends on 'no_customer_id', which must come before it",
    ),
    (
        (SHORT, FieldSpec(key="x", label="X", visible_when={"username": ("a",)})),
        "x: visible_when may name a choice, multi-choice or yes/no field, "
        "not the short_text field 'username'",
    ),
    (
        (NO_ID, FieldSpec(key="x", label="X", visible_when={"no_customer_id": ("on",)})),
        "x: 'on' is no option of 'no_customer_id' (it has: yes, no)",
    ),
    (
        (CHOICE, FieldSpec(key="x", label="X", visible_when={"state": ("CA", "TX")})),
        "x: 'TX' is no option of 'state' (it has: CA, NY)",
    ),
    (
        (CHOICE, FieldSpec(key="x", label="X", visible_when={"state": ()})),
        "x: list at least one option of 'state'",
    ),
    (
        (
            FieldSpec(key="x", label="X", kind=FieldKind.YES_NO, internal=True),
            FieldSpec(key="y", label="Y", visible_when={"x": ("yes",)}),
        ),
        "y: it depends on 'x', an internal-only field customers never see",
    ),
    (
        (MULTI, attrs.evolve(CATEGORY, options_by=DependentOptions(field="files", options={}))),
        "category: options_by makes a choice or multi-choice field depend on a choice field",
    ),
    (
        (PRODUCT, attrs.evolve(CATEGORY, kind=FieldKind.SHORT_TEXT)),
        "category: options_by makes a choice or multi-choice field depend on a choice field",
    ),
    (
        (
            PRODUCT,
            attrs.evolve(
                CATEGORY,
                options_by=DependentOptions(field="product", options={"Mobile": ("Access",)}),
            ),
        ),
        "category: 'Mobile' is no option of 'product' "
        "(it has: Claims Portal, Eligibility API, Other)",
    ),
    (
        (
            PRODUCT,
            attrs.evolve(
                CATEGORY, options_by=DependentOptions(field="product", options={"Other": ("Fun",)})
            ),
        ),
        "category: 'Fun' is no option of 'category' (it has: Access, Data, Billing)",
    ),
    ((CATEGORY,), "category: it depends on 'product', which is no field of this form"),
]


@pytest.mark.parametrize(("fields", "message"), DEFINITION_ERRORS)
def test_a_definition_nobody_could_fill_in_is_refused(
    fields: tuple[FieldSpec, ...], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        check_fields(fields)
    assert caught.value.errors == {"fields": message}


@pytest.mark.parametrize(
    "spec",
    [
        FieldSpec(key="x", label="X", visible_when=[("state", ("CA",))]),  # type: ignore[arg-type]
        FieldSpec(key="x", label="X", visible_when={"state": ["CA"]}),  # type: ignore[dict-item]
        FieldSpec(key="x", label="X", visible_when={1: ("CA",)}),  # type: ignore[dict-item]
        FieldSpec(key="x", label="X", options_by={"product": {}}),  # type: ignore[arg-type]
    ],
)
def test_conditions_of_the_wrong_type_are_type_errors_naming_fields(spec: FieldSpec) -> None:
    with pytest.raises(TypeError, match="fields"):
        check_fields((CHOICE, spec))
