"""Rafiki Web's Python side that needs no Django: the model SDK, the advisor, the trial runner
and the HTTP client."""
