"""A playbook checked against the actions it uses, and what a run or a plan makes of it for one mode.

Above ``actions`` because checking a step needs its action's parameter model and safety role; ``playbook``
below stays pure data that the actions themselves may import (docs/architecture.md, "Layers").
"""
