"""Evidence media: sniffing uploads by content, and the content-addressed store."""
