"""Contacts: one per person, with an identity per channel account."""
