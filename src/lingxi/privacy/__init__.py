"""Consent, masking and the handling of sensitive identifiers."""
