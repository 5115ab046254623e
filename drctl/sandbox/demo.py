"""The built-in demo estate: the wallet platform, primary in Australia East, warm standby in Australia Southeast.

Used by ``drctl sandbox up`` without ``--estate``/``--from-playbook`` and by the tests. Kept as data in code
(not a YAML file) so it ships with the package without package-data settings.
"""

from __future__ import annotations

from typing import Any

from drctl.sandbox.estate import Estate, estate_from_dict

SUBSCRIPTION = "8c5e1a7e-3b9f-4d2a-9f0e-2f6d1c7b9a41"


def demo_estate_data() -> dict[str, Any]:
    return {
        "name": "wallet-demo",
        "subscription_id": SUBSCRIPTION,
        "regions": {
            "au-east": {
                "location": "australiaeast",
                "app": {
                    "hosts": ["api-aue.wallet.example.com"],
                    "health_path": "/healthz",
                    "replication_path": "/replication",
                },
            },
            "au-southeast": {
                "location": "australiasoutheast",
                "app": {
                    "hosts": ["api-ause.wallet.example.com"],
                    "health_path": "/healthz",
                    "replication_path": "/replication",
                },
            },
        },
        "resource_groups": [
            {"name": "rg-wallet-aue", "region": "au-east"},
            {"name": "rg-wallet-ause", "region": "au-southeast"},
            {"name": "rg-wallet-dns", "region": "au-east"},
        ],
        "sql": {
            "servers": [
                {"name": "sql-wallet-aue", "resource_group": "rg-wallet-aue", "region": "au-east"},
                {"name": "sql-wallet-ause", "resource_group": "rg-wallet-ause", "region": "au-southeast"},
            ],
            "failover_groups": [
                {
                    "name": "fg-wallet",
                    "primary": "sql-wallet-aue",
                    "secondary": "sql-wallet-ause",
                    "databases": ["walletdb", "ledgerdb", "identitydb"],
                    "replication_lag_seconds": 5,
                }
            ],
        },
        "web_apps": [
            {"name": "app-wallet-api-aue", "resource_group": "rg-wallet-aue", "region": "au-east"},
            {"name": "app-wallet-portal-aue", "resource_group": "rg-wallet-aue", "region": "au-east"},
            {
                "name": "app-wallet-api-ause",
                "resource_group": "rg-wallet-ause",
                "region": "au-southeast",
                "state": "Stopped",
            },
            {
                "name": "app-wallet-portal-ause",
                "resource_group": "rg-wallet-ause",
                "region": "au-southeast",
                "state": "Stopped",
            },
        ],
        "scale_sets": [
            {"name": "vmss-wallet-workers-aue", "resource_group": "rg-wallet-aue", "region": "au-east", "capacity": 6},
            {
                "name": "vmss-wallet-workers-ause",
                "resource_group": "rg-wallet-ause",
                "region": "au-southeast",
                "capacity": 1,
            },
        ],
        "storage_accounts": [
            {
                "name": "stwalletaue",
                "resource_group": "rg-wallet-aue",
                "region": "au-east",
                "secondary_region": "au-southeast",
                "replication_lag_seconds": 120,
            },
        ],
        "dns": {
            "zones": [
                {
                    "name": "wallet.example.com",
                    "resource_group": "rg-wallet-dns",
                    "records": [
                        {"name": "api", "type": "A", "ttl": 3600, "values": ["20.1.1.1"]},
                        {
                            "name": "portal",
                            "type": "CNAME",
                            "ttl": 3600,
                            "values": ["app-wallet-portal-aue.azurewebsites.net"],
                        },
                    ],
                }
            ]
        },
        "smtp": {"hosts": ["smtp.wallet.example.com:587"], "username": "dr-notify"},
        "variables": {
            "SLACK_OPS_WEBHOOK": "{webhook_base}/ops-slack",
            "TEAMS_EXEC_WEBHOOK": "{webhook_base}/exec-teams",
            "SMTP_USER": "{smtp_username}",
            "SMTP_PASSWORD": "{smtp_password}",
        },
    }


def demo_estate() -> Estate:
    return estate_from_dict(demo_estate_data(), source="<demo estate>")
