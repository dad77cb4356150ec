"""Tests of app/services/reviews."""
