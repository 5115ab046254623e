"""What actions do when a run executes them; imported only when a run starts (never by validate or plan)."""
