"""The school: cohorts, organisations, apprenticeships and their semesters, CSV import."""
