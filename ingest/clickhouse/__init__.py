"""ClickHouse as a tierwise store: the client, the schema over the Collector's tables, and loading costs."""
