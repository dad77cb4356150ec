"""Tests of app/services/referentials."""
