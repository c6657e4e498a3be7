"""Shared pieces imported by every page: data access, map builders, offline assets."""
