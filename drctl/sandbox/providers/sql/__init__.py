"""Microsoft.Sql servers, databases and failover groups, with the geo-replication simulation (``sim``)."""
