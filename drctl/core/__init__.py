"""What every layer above shares and nothing below needs: the step-graph maths, who a person is, and how a
wait is cut short. Imports nothing of drctl but ``errors`` and ``durations`` (docs/architecture.md, "Layers")."""
