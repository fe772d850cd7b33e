-- Issue 13: a connector's own id for a request (`channel:external_id`), so the same request
-- handed in twice is one ticket. Found by equality; NULL for every other ticket.
ALTER TABLE tickets ADD COLUMN external_key TEXT;
CREATE INDEX tickets_external ON tickets (external_key) WHERE external_key IS NOT NULL;
