"""Imported by nothing: a test checks that stored state naming it does not import it."""


class Canary:
    pass
