"""Delivering notices beyond the page: the outbox of deliveries, its adapters (SMS gateway, group-robot webhook), the
process that sends them, and a local sink that stands in for the receivers."""
