"""Tests of app/services/documents."""
