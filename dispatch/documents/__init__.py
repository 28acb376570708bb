"""Exports (xlsx, csv) of the case list and the metrics, and the printed papers of a case (PDF)."""
