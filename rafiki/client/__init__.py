"""Python client for Rafiki Web's Rafiki-compatible admin API (needs ``requests``)."""

from rafiki.client.client import Client, RafikiClientError

__all__ = ["Client", "RafikiClientError"]
