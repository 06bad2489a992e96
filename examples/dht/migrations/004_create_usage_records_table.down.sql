-- Dropping the parent drops every partition with it.
DROP TABLE IF EXISTS usage_records;
