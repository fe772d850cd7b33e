-- C16 and data sharing on PostgreSQL (SQLite's 0003, 0005 and 0008): who read a citizen's
-- whole number or name, who listened to, whispered on or barged into a live call, who
-- exported tickets. Times are unix seconds, as in SQLite. `user` is a reserved word here:
-- the column is `usr`.

CREATE TABLE read_audit (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at     BIGINT NOT NULL,
    usr    TEXT NOT NULL,
    role   TEXT NOT NULL,
    ticket TEXT NOT NULL,
    what   TEXT NOT NULL
);
CREATE INDEX read_audit_at ON read_audit (at, id);
CREATE INDEX read_audit_ticket ON read_audit (ticket, at);
CREATE INDEX read_audit_user ON read_audit (usr, at);

CREATE TABLE monitoring_audit (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    usr       TEXT NOT NULL,
    mode      TEXT NOT NULL,      -- listen, whisper, barge
    call      TEXT NOT NULL,      -- the call's public name
    ticket    TEXT,
    joined_at BIGINT NOT NULL,    -- unix seconds
    left_at   BIGINT              -- unix seconds; NULL while still on the call
);
CREATE INDEX monitoring_audit_at ON monitoring_audit (joined_at);
CREATE INDEX monitoring_audit_user ON monitoring_audit (usr, joined_at);
CREATE INDEX monitoring_audit_call ON monitoring_audit (call, joined_at);

CREATE TABLE export_audit (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    usr       TEXT NOT NULL,
    at        BIGINT NOT NULL,    -- unix seconds
    from_day  TEXT NOT NULL,      -- YYYY-MM-DD, China time
    to_day    TEXT NOT NULL,      -- included
    fields    TEXT NOT NULL,      -- comma-separated, in the order exported
    format    TEXT NOT NULL       -- jsonl or csv
);
CREATE INDEX export_audit_at ON export_audit (at);
