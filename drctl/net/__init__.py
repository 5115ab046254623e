"""Network I/O that is not the Azure SDK: health probes, webhooks, SMTP and DNS queries.

All of it takes the run's ``net.config.NetworkConfig``, so the same code reaches production or the sandbox:
resolve overrides (curl ``--resolve`` style: connect ``host:port`` to another address while keeping the real
name for TLS and the Host header), an extra CA to trust, and the DNS servers to ask.
"""
