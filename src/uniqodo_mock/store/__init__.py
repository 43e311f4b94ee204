"""The database: engines, tables, Alembic migrations, the repository (all SQL of the mock), the
data version, fixtures loading, snapshots and the callback outbox. Import the modules
themselves (``uniqodo_mock.store.repository``)."""

__all__: list[str] = []
