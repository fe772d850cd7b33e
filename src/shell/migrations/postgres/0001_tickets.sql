-- The ticket store on PostgreSQL (issue 19): the same tables as SQLite's migrations 0001-0006
-- in one step (a PostgreSQL store has no files from before those columns to back-fill).
-- The append-only event log is the truth; `tickets` is an index row per ticket, rewritten by
-- the workflow on every write, for listing, sweeping and reports. Times are unix seconds, as
-- in SQLite, so both backends count alike.

CREATE TABLE ticket_seq (
    day  TEXT PRIMARY KEY,          -- registration day, YYYYMMDD
    last BIGINT NOT NULL
);

CREATE TABLE events (
    ticket_id TEXT NOT NULL,
    seq       BIGINT NOT NULL,      -- 1-based; the ticket version after it
    at        TEXT NOT NULL,        -- RFC 3339
    at_ts     BIGINT NOT NULL,      -- the same instant, unix seconds (per-agent tallies)
    body      TEXT NOT NULL,        -- the event as JSON, as serde wrote it
    PRIMARY KEY (ticket_id, seq)
);

CREATE TABLE tickets (
    id              TEXT PRIMARY KEY,   -- YYYYMMDD-NNNNNN: sorts by registration
    version         BIGINT NOT NULL,
    state           TEXT NOT NULL,
    lead_unit       TEXT,
    channel         TEXT NOT NULL,
    request_type    TEXT NOT NULL,
    domain          TEXT NOT NULL,
    urgency         TEXT NOT NULL,
    area            TEXT,
    received_ts     BIGINT NOT NULL,
    phone_key       TEXT,
    next_due_ts     BIGINT,
    wake_ts         BIGINT,
    closed_ts       BIGINT,
    rating          TEXT,
    repeat_of       TEXT,
    repeat_excluded BOOLEAN NOT NULL,
    supervised      BOOLEAN NOT NULL,
    call_id         TEXT,
    responded_ts    BIGINT,             -- C13: the hotline's first response
    external_key    TEXT,               -- issue 13: `channel:external_id`
    number          TEXT,               -- the service number dialled (issue 21)
    row_json        TEXT NOT NULL
);

-- Who may see a ticket (lead and assisting units); received_ts copied for a unit's page.
CREATE TABLE ticket_units (
    unit        TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    received_ts BIGINT NOT NULL,
    PRIMARY KEY (unit, ticket_id)
);
CREATE INDEX ticket_units_by_ticket ON ticket_units (ticket_id);
CREATE INDEX ticket_units_page ON ticket_units (unit, received_ts, ticket_id);

-- Pages are newest received first: (received_ts DESC, id DESC); each filter walks an index
-- already in that order (PostgreSQL scans a B-tree backwards), so a page stops after `limit`.
CREATE INDEX tickets_state     ON tickets (state, received_ts, id);
CREATE INDEX tickets_type      ON tickets (request_type, received_ts, id);
CREATE INDEX tickets_domain    ON tickets (domain, received_ts, id);
CREATE INDEX tickets_channel   ON tickets (channel, received_ts, id);
CREATE INDEX tickets_received  ON tickets (received_ts, id);
CREATE INDEX tickets_running   ON tickets (received_ts, id) WHERE next_due_ts IS NOT NULL;
CREATE INDEX tickets_wake      ON tickets (wake_ts, id) WHERE wake_ts IS NOT NULL;
CREATE INDEX tickets_call      ON tickets (call_id) WHERE call_id IS NOT NULL;
CREATE INDEX tickets_phone     ON tickets (phone_key, received_ts) WHERE phone_key IS NOT NULL;
CREATE INDEX tickets_external  ON tickets (external_key) WHERE external_key IS NOT NULL;

-- C12: linkages to 110/119/120/122 or a utility hotline, written with the event.
CREATE TABLE emergency_links (
    ticket_id  TEXT NOT NULL,
    seq        BIGINT NOT NULL,
    at_ts      BIGINT NOT NULL,
    service    TEXT NOT NULL,
    after_secs BIGINT,
    PRIMARY KEY (ticket_id, seq)
);
CREATE INDEX emergency_links_at ON emergency_links (at_ts);
