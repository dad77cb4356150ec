"""Tests of app/services/journal."""
