-- Data sharing: every ticket export (GET /api/export/tickets) — who, when, which period,
-- which fields, in which format — committed before the first line is sent.
CREATE TABLE IF NOT EXISTS export_audit (
    id        INTEGER PRIMARY KEY,
    user      TEXT NOT NULL,
    at        INTEGER NOT NULL,   -- unix seconds
    from_day  TEXT NOT NULL,      -- YYYY-MM-DD, China time
    to_day    TEXT NOT NULL,      -- included
    fields    TEXT NOT NULL,      -- comma-separated, in the order exported
    format    TEXT NOT NULL       -- jsonl or csv
);
CREATE INDEX IF NOT EXISTS export_audit_at ON export_audit (at);
