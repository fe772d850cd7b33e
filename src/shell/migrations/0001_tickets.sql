-- Tickets (诉求工单): the append-only event log is the truth; `tickets` is an index row per
-- ticket (rebuilt from the log by the workflow on every write) for listing, sweeping, reports.

CREATE TABLE ticket_seq (
    day  TEXT PRIMARY KEY,          -- registration day, YYYYMMDD
    last INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE events (
    ticket_id TEXT NOT NULL,
    seq       INTEGER NOT NULL,     -- 1-based; the ticket version after it
    at        TEXT NOT NULL,        -- RFC 3339
    body      TEXT NOT NULL,        -- the event as JSON
    PRIMARY KEY (ticket_id, seq)
) WITHOUT ROWID;

CREATE TABLE tickets (
    id              TEXT PRIMARY KEY,   -- YYYYMMDD-NNNNNN: sorts by registration
    version         INTEGER NOT NULL,
    state           TEXT NOT NULL,
    lead_unit       TEXT,
    channel         TEXT NOT NULL,
    request_type    TEXT NOT NULL,
    domain          TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    area            TEXT,
    received_ts     INTEGER NOT NULL,   -- unix seconds
    phone_key       TEXT,
    next_due_ts     INTEGER,
    wake_ts         INTEGER,
    closed_ts       INTEGER,
    rating          TEXT,
    repeat_of       TEXT,
    repeat_excluded INTEGER NOT NULL,
    supervised      INTEGER NOT NULL,
    call_id         TEXT,
    row_json        TEXT NOT NULL
) WITHOUT ROWID;

-- Who may see a ticket (lead and assisting units).
-- received_ts is copied here so a unit's page is read from this table's own index.
CREATE TABLE ticket_units (
    unit        TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    received_ts INTEGER NOT NULL,
    PRIMARY KEY (unit, ticket_id)
) WITHOUT ROWID;
CREATE INDEX ticket_units_by_ticket ON ticket_units (ticket_id);
CREATE INDEX ticket_units_page ON ticket_units (unit, received_ts, ticket_id);

-- Pages are newest received first: (received_ts DESC, id DESC). Each filter walks an index
-- already in that order, so a page stops after `limit` matching rows and a date range is a
-- range scan, not a walk through everything newer.
CREATE INDEX tickets_state     ON tickets (state, received_ts, id);
CREATE INDEX tickets_type      ON tickets (request_type, received_ts, id);
CREATE INDEX tickets_domain    ON tickets (domain, received_ts, id);
CREATE INDEX tickets_channel   ON tickets (channel, received_ts, id);
CREATE INDEX tickets_received  ON tickets (received_ts, id);
-- Tickets with a running deadline, newest first: the overdue list skips every closed ticket.
CREATE INDEX tickets_running   ON tickets (received_ts, id) WHERE next_due_ts IS NOT NULL;
CREATE INDEX tickets_wake      ON tickets (wake_ts) WHERE wake_ts IS NOT NULL;
CREATE INDEX tickets_call      ON tickets (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX tickets_phone     ON tickets (phone_key, received_ts) WHERE phone_key IS NOT NULL;
