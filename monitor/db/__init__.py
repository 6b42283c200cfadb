"""Storage: typed tables, engines, the upsert helper and migrations. SQLite embedded, PostgreSQL in production."""
