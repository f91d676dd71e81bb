"""Clients that extract from provider systems into Arrow tables for landing."""
