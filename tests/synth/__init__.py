"""Tests of the example-data generator."""
