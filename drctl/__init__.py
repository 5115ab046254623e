"""drctl: disaster-recovery orchestration for Azure."""

__version__ = "0.1.0"
