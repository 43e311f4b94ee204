"""Test controls of a running mock (issue 6): the shared virtual clock, the request journal,
fault rules and state snapshots. No web framework here: ``mock/`` wires them into the app."""
