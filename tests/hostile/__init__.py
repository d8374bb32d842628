"""Hostile clients against a real ``kommunen-kg serve`` (issue 10): each attack replayed."""
