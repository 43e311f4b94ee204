"""Test controls of a running mock: the shared virtual clock, the request journal, fault rules
and state snapshots. No web framework here: ``mock/`` wires them into the app. Import the
modules themselves (``uniqodo_mock.control.faults``)."""

__all__: list[str] = []
