-- C16: every use of a supervisor's listen, whisper or barge on a live call: who, how, which
-- call (and its ticket), from when to when. Written by the engine's call-ticket jobs.
CREATE TABLE IF NOT EXISTS monitoring_audit (
    id        INTEGER PRIMARY KEY,
    user      TEXT NOT NULL,
    mode      TEXT NOT NULL,      -- listen, whisper, barge
    call      TEXT NOT NULL,      -- the call's public name
    ticket    TEXT,
    joined_at INTEGER NOT NULL,   -- unix seconds
    left_at   INTEGER             -- unix seconds; NULL while still on the call
);
CREATE INDEX IF NOT EXISTS monitoring_audit_at ON monitoring_audit (joined_at);
CREATE INDEX IF NOT EXISTS monitoring_audit_user ON monitoring_audit (user, joined_at);
CREATE INDEX IF NOT EXISTS monitoring_audit_call ON monitoring_audit (call, joined_at);
