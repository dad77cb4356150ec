"""Semester reviews: assessments, agreed content, co-signature, the review page."""
