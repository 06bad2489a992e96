-- API usage, partitioned by month as the notes suggest for large datasets.
-- The API key may be deleted later: its usage stays, with api_key_id set to NULL.
CREATE TABLE usage_records (
    id BIGSERIAL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    api_key_id BIGINT REFERENCES api_keys(id) ON DELETE SET NULL,
    endpoint VARCHAR(255) NOT NULL,
    method VARCHAR(10) NOT NULL,
    status_code INTEGER NOT NULL,
    request_size_bytes BIGINT NOT NULL DEFAULT 0,
    response_size_bytes BIGINT NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL,
    error_message TEXT,
    created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT NOW(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);

-- A partition for each month of the current year and the next, plus a default catch-all.
DO $$
DECLARE
    first_month date := date_trunc('year', now())::date;
    m date;
BEGIN
    FOR i IN 0..23 LOOP
        m := first_month + make_interval(months => i);
        EXECUTE format(
            'CREATE TABLE usage_records_%s PARTITION OF usage_records FOR VALUES FROM (%L) TO (%L)',
            to_char(m, 'YYYY_MM'), m, m + interval '1 month');
    END LOOP;
END
$$;
CREATE TABLE usage_records_default PARTITION OF usage_records DEFAULT;

CREATE INDEX idx_usage_records_user_created ON usage_records (user_id, created_at DESC);
CREATE INDEX idx_usage_records_api_key ON usage_records (api_key_id) WHERE api_key_id IS NOT NULL;
CREATE INDEX idx_usage_records_errors ON usage_records (created_at) WHERE status_code >= 400;
