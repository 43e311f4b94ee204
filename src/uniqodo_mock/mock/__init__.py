"""The mock server: a connexion AsyncApp (``mock.app.create_app``) over the specs, its
middlewares, the vendor and admin handlers and the worker processes. Import the modules
themselves (``uniqodo_mock.mock.app``)."""

__all__: list[str] = []
