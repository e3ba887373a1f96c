"""Pictures of the tools' results: PNG charts and one HTML page per run in var/reports/."""
