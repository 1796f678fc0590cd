"""The database: connection and backends (db), the tables (models, tables), attachment
storage (storage) and backup/restore (backup)."""
