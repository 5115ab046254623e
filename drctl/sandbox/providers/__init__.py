"""One package per emulated Azure service, the way LocalStack keeps one provider per service.

Each package holds the service's estate section and live state (``model``), its ARM routes (``routes``), its
seeding from a playbook (``seed``) and its ``Provider`` (``provider``: store, snapshot section, op kinds, admin
helpers). ``drctl.sandbox.registry.PROVIDERS`` lists them; ``docs/sandbox.md`` ("Providers") has the recipe.
This package imports nothing itself, so a provider's model can be imported without its routes.
"""
