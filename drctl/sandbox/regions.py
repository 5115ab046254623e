"""Azure location names: some providers answer ``australiaeast``, others (SQL partner info, App Service) the
display name ``Australia East``; the sandbox answers each the way its provider does."""

from __future__ import annotations

_DISPLAY = {
    "australiaeast": "Australia East",
    "australiasoutheast": "Australia Southeast",
    "australiacentral": "Australia Central",
    "australiacentral2": "Australia Central 2",
    "eastus": "East US",
    "eastus2": "East US 2",
    "westus": "West US",
    "westus2": "West US 2",
    "westus3": "West US 3",
    "centralus": "Central US",
    "northcentralus": "North Central US",
    "southcentralus": "South Central US",
    "westcentralus": "West Central US",
    "canadacentral": "Canada Central",
    "canadaeast": "Canada East",
    "brazilsouth": "Brazil South",
    "northeurope": "North Europe",
    "westeurope": "West Europe",
    "uksouth": "UK South",
    "ukwest": "UK West",
    "francecentral": "France Central",
    "germanywestcentral": "Germany West Central",
    "swedencentral": "Sweden Central",
    "switzerlandnorth": "Switzerland North",
    "norwayeast": "Norway East",
    "japaneast": "Japan East",
    "japanwest": "Japan West",
    "koreacentral": "Korea Central",
    "koreasouth": "Korea South",
    "southeastasia": "Southeast Asia",
    "eastasia": "East Asia",
    "centralindia": "Central India",
    "southindia": "South India",
    "westindia": "West India",
    "uaenorth": "UAE North",
    "southafricanorth": "South Africa North",
    "newzealandnorth": "New Zealand North",
}


def display_name(location: str) -> str:
    """``australiaeast`` -> ``Australia East``; unknown names are returned unchanged."""
    return _DISPLAY.get(location.lower(), location)


def normalize(location: str) -> str:
    """``Australia East`` or ``australiaeast`` -> ``australiaeast`` (how ARM compares locations)."""
    return location.replace(" ", "").lower()
