"""Microsoft.Cdn (Azure Front Door Standard/Premium): profiles, AFD endpoints, origin groups and origins."""
