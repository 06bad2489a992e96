-- 006_create_triggers.sql: keep updated_at current on every UPDATE, whatever the client sends.

CREATE OR REPLACE FUNCTION update_updated_at_column()
RETURNS TRIGGER
LANGUAGE plpgsql
AS $$
BEGIN
    -- NOW() is the start of the transaction: every row changed together gets the same time.
    NEW.updated_at = NOW();
    RETURN NEW;
END;
$$;

-- DROP ... IF EXISTS first keeps the file re-runnable by hand (CREATE OR REPLACE TRIGGER
-- needs PostgreSQL 14).
DROP TRIGGER IF EXISTS update_users_updated_at ON users;
CREATE TRIGGER update_users_updated_at
    BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

DROP TRIGGER IF EXISTS update_sessions_updated_at ON sessions;
CREATE TRIGGER update_sessions_updated_at
    BEFORE UPDATE ON sessions
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

DROP TRIGGER IF EXISTS update_software_background_updated_at ON software_background;
CREATE TRIGGER update_software_background_updated_at
    BEFORE UPDATE ON software_background
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();

DROP TRIGGER IF EXISTS update_hardware_background_updated_at ON hardware_background;
CREATE TRIGGER update_hardware_background_updated_at
    BEFORE UPDATE ON hardware_background
    FOR EACH ROW EXECUTE FUNCTION update_updated_at_column();
