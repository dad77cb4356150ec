"""Tests of app/services/pages."""
