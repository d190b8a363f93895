"""Results: record schema and migrations, the atomic store, statistics, tables, the report, comparison, export."""
