"""``uniqodo-mock fixtures``: fixture file tools (placeholder until the loader lands)."""
