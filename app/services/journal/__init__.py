"""The work-situation journal: evidence the apprentice logs, read by the tutor."""
