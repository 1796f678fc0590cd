"""What people fill in per node: compound files (profiles), checklists, KPI reports,
attachments, and spreadsheet imports (households included)."""

# Record modules register the kinds of record attachments can belong to
# (attachments.RECORD_KINDS) when imported: import them with the package.
from engine.records import checklists, kpi_reports  # noqa: F401
