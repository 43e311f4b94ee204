"""uniqodo-mock: the offline twin of the Uniqodo voucher-code API."""

__version__ = "0.1.0"
__all__ = ["__version__"]
