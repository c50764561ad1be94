"""Normalising resident ID numbers before they are hashed: one person, one hash, whichever card."""

from __future__ import annotations

from lingxi.privacy.identifiers import keyed_hash, normalise_id_no


def test_a_15_digit_legacy_number_hashes_as_the_18_digit_one_whatever_the_case_of_its_check_letter() -> None:
    same_person = {
        "11010519491231002X": ["110105491231002", "11010519491231002x", " １１０１０５４９１２３１００２ "],
        "440305197506070033": ["440305750607003", "440305197506070033"],
    }
    for current, written in same_person.items():
        assert {normalise_id_no(w) for w in written} == {current}
        assert len({keyed_hash(normalise_id_no(w) or "", "k") for w in written}) == 1
    # a legacy number has no check digit: its birth date is all there is to check
    for bad in ("110105491331002", "110105490229002", "11010549123100", "1101054912310X2", "110105199003150021"):
        assert normalise_id_no(bad) is None, bad
