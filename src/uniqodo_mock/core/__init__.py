"""The pure domain: clock, dates, money, codes, offer rules, views, callbacks, basket rules and
the error catalogue. No I/O and nothing else of the project. Import the modules themselves
(``uniqodo_mock.core.rules``)."""

__all__: list[str] = []
