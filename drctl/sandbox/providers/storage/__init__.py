"""Microsoft.Storage accounts: geo-redundant replication, last sync time and account failover."""
