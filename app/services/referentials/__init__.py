"""Referentials: certifications, competency blocks, competencies, rating scales."""
