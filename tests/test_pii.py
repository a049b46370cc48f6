import pytest

from redact import pii


@pytest.mark.parametrize("digits, valid", [
    ("9434765919", True),
    ("9434765918", False),
    ("4010232137", True),   # 4*10 + 1*8 + 2*6 + 3*5 + 2*4 + 1*3 + 3*2 = 92; 92 % 11 = 4; 11 - 4 = 7
    ("4010232138", False),
    ("1234567881", True),   # sum 208; 208 % 11 = 10; 11 - 10 = 1
    ("1000000001", True),   # sum 10; check 1
    ("1000000002", False),
    ("0000000000", True),   # sum 0: check 11 -> 0
    ("123456789", False),   # nine digits
    ("943476591a", False),
])
def test_nhs_check(digits, valid):
    assert pii.nhs_check(digits) is valid


def test_nhs_check_digit_ten_is_never_valid():
    # 6 * 2 = 12; 12 % 11 = 1; 11 - 1 = 10: no tenth digit makes this a valid NHS number
    assert not any(pii.nhs_check("000000006" + d) for d in "0123456789")


@pytest.mark.parametrize("text", ["943 476 5919", "943-476-5919", "9434765919", "NHS No: 943 476 5919",
                                  "943 476 59I9"])
def test_valid_nhs_numbers(text):
    assert "nhs_number" in pii.classify(text)


def test_invalid_nhs_number_is_still_a_hospital_number():
    cats = pii.classify("943 476 5918")
    assert "nhs_number" not in cats
    assert "hospital_number" in cats


def test_number_after_nhs_label_counts_even_if_misread():
    assert {"label", "nhs_number"} <= pii.classify("NHS Number: 943 476 5918")


@pytest.mark.parametrize("text", ["RX1234567", "A 123456", "MRN 00123456", "1234567", "Hosp No: K554433"])
def test_hospital_numbers(text):
    assert "hospital_number" in pii.classify(text)


@pytest.mark.parametrize("text", ["01/02/1960", "1/2/60", "01-02-60", "01.02.1960", "1960-02-01", "3 Mar 1960",
                                  "3rd March 1960", "March 3, 1960", "DOB 1 2 60", "Date of birth: 1st of May"])
def test_dates(text):
    assert "date" in pii.classify(text)


@pytest.mark.parametrize("text", ["07700 900123", "07700900123", "+44 7700 900123", "+44 (0)20 7946 0018",
                                  "020 7946 0018", "0161 496 0000", "Ext 4567", "Bleep: 1234"])
def test_phones(text):
    assert "phone" in pii.classify(text)


@pytest.mark.parametrize("text", ["SW1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "ec1a 1bb", "GIR 0AA"])
def test_postcodes(text):
    assert "postcode" in pii.classify(text)


def test_email():
    assert "email" in pii.classify("j.example@nhs.net")


@pytest.mark.parametrize("text", ["12 Acacia Avenue", "4a High St", "221 Baker Street", "7 Elm Close",
                                  "Address: Flat 2, The Maltings"])
def test_addresses(text):
    assert "address" in pii.classify(text)


@pytest.mark.parametrize("text", ["by 14, then you place them", "2 of us walk in", "3 and we close", "at 9 I drive"])
def test_a_number_then_a_street_word_in_ordinary_speech_is_not_an_address(text):
    # words such as "then", "you", "of", "we" are never in a street's name: the street word is a verb here
    assert "address" not in pii.classify(text)


@pytest.mark.parametrize("text", ["Dr Smith", "Dr. J Patel", "Mrs Jones", "Nurse Okafor", "Sister Mary",
                                  "John Example", "JOHN EXAMPLE", "SMITH, John", "Name: john", "Patient: x y",
                                  "Consultant: Dr Who", "Mary Anne Jones"])
def test_names(text):
    assert "name" in pii.classify(text)


@pytest.mark.parametrize("text", ["EXIT", "Ward 7", "Fire Exit", "Main Entrance", "Nurse Station", "Hand Hygiene",
                                  "Please wash your hands", "NHS Trust", "Room 12", "Bed 4", "Level 2 Outpatients",
                                  "Television", "No Smoking", "Staff Only", "12:30", "Version 1.2.3", "Car Park",
                                  "Visiting Hours 2-8", ""])
def test_harmless_signs_are_not_pii(text):
    cats = pii.classify(text)
    assert cats == set()
    assert not pii.is_pii(cats)


@pytest.mark.parametrize("text, cat", [("Name:", "label"), ("DOB:", "label"), ("NHS No", "label"),
                                       ("MRN", "label"), ("Address:", "label")])
def test_labels(text, cat):
    assert cat in pii.classify(text)
    assert pii.is_pii(pii.classify(text))


def test_is_pii_and_most_specific():
    assert pii.is_pii({"date"}) and pii.is_pii({"label"})
    assert not pii.is_pii(set()) and not pii.is_pii({"something else"})
    assert pii.most_specific({"name", "label", "nhs_number"}) == "nhs_number"
    assert pii.most_specific({"label", "name"}) == "name"
    assert pii.most_specific(set()) is None


def test_split_nhs_number_over_three_boxes():
    cats = pii.classify_line(["NHS No:", "943 476", "5919"])
    assert "label" in cats[0]
    assert "nhs_number" in cats[1] and "nhs_number" in cats[2]


def test_split_number_without_label_uses_the_check_digit():
    cats = pii.classify_line(["943", "476", "5919"])
    assert all("nhs_number" in c for c in cats)


def test_value_in_the_box_after_its_label():
    assert "name" in pii.classify_line(["Name:", "john"])[1]
    assert "date" in pii.classify_line(["DOB", "1 Feb"])[1]
    assert "nhs_number" in pii.classify_line(["NHS No.", "943 476 5918"])[1]  # misread, label decides


def test_line_context_does_not_spill_onto_harmless_boxes():
    cats = pii.classify_line(["EXIT", "Ward 7"])
    assert cats == [set(), set()]
    cats = pii.classify_line(["Ward 7", "Dr Smith"])
    assert cats[0] == set() and "name" in cats[1]


def test_classify_line_of_nothing():
    assert pii.classify_line([]) == []
    assert pii.classify_line(["", "  "]) == [set(), set()]


def test_categories_are_known_names_only():
    seen = set()
    for text in ["Name: John Example", "DOB: 01/02/1960", "NHS No: 943 476 5919", "12 Acacia Avenue SW1A 1AA",
                 "07700 900123 j@x.org", "RX1234567"]:
        seen |= pii.classify(text)
    assert seen <= set(pii.CATEGORIES)
    assert seen == set(pii.CATEGORIES)
