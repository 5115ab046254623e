"""Microsoft.Network DNS zones and record sets, and the authoritative DNS server that serves them propagated."""
