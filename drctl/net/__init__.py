"""Network I/O that is not the Azure SDK: health probes, webhooks, SMTP and DNS queries.

All of it honours two overrides, so the same code reaches production or the sandbox:
``DRCTL_RESOLVE`` (curl ``--resolve`` style: connect ``host:port`` to another address while keeping the real
name for TLS and the Host header) and ``REQUESTS_CA_BUNDLE`` (an extra CA to trust).
"""
