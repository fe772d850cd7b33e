-- C16: who read a citizen's whole number or name through the API, and when.
CREATE TABLE IF NOT EXISTS read_audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    ticket TEXT NOT NULL,
    what TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS read_audit_ticket ON read_audit (ticket, at);
CREATE INDEX IF NOT EXISTS read_audit_user ON read_audit (user, at);
