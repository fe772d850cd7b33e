-- Call records and the call journal (issue 19): what the engines' day files and
-- call-journal.jsonl hold on one machine, shared so that the engine taking over can close
-- the dead engine's live calls (outcome lost_in_failover) and rebuild the last 24 h of KPIs.
CREATE TABLE call_records (
    call_id text PRIMARY KEY,
    node text NOT NULL,
    ended_at timestamptz NOT NULL,
    record jsonb NOT NULL
);
CREATE INDEX call_records_ended ON call_records (ended_at);

-- One row per live call: its latest milestone, replaced as the call goes on and deleted in
-- the transaction that writes its record.
CREATE TABLE call_journal (
    call_id text PRIMARY KEY,
    node text NOT NULL,
    written_at timestamptz NOT NULL,
    entry jsonb NOT NULL
);
