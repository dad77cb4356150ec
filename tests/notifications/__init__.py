"""Tests of app/services/notifications."""
