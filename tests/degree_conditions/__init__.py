"""Tests of app/services/degree_conditions."""
