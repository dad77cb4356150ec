"""Tests of app/services/school."""
