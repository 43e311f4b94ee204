"""``uniqodo-mock serve``: run the mock server (placeholder until the app lands)."""
