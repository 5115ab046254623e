"""Microsoft.Resources: subscriptions, resource groups, provider registrations and generic resources by id."""
