"""The emulated Azure Resource Manager: one module per resource provider, routed by ``router.ArmRouter``."""
