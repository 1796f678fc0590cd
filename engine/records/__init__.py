"""What people fill in per node: compound files (profiles), checklists, KPI reports,
attachments, and spreadsheet imports (households included)."""
