"""Microsoft.Web sites: web apps that a failover starts and stops."""
