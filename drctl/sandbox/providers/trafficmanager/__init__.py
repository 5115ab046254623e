"""Microsoft.Network Traffic Manager profiles and their endpoints, with the profile's DNS name answered by the
sandbox's DNS server (``trafficmanager.net``)."""
