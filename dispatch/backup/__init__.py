"""Backups that restore: one archive of the database (pg_dump), the media files and the audit anchors, with a manifest
of hashes; `gridctl backup` writes it, `gridctl restore` brings it into an empty stack."""
