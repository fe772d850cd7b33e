-- C12: every linkage of a request to 110/119/120/122 or a utility hotline, with the seconds
-- from the request's receipt (the call's start) to the linkage, for the statistics
-- (`GET /api/stats` → `emergency_linkage`). Written with the `linked_emergency` event.
CREATE TABLE IF NOT EXISTS emergency_links (
    ticket_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at_ts      INTEGER NOT NULL,    -- unix seconds of the linkage
    service    TEXT NOT NULL,       -- "110", "119", "120", "122", water, power, gas, heating
    after_secs INTEGER,             -- NULL for events recorded before the figure existed
    PRIMARY KEY (ticket_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS emergency_links_at ON emergency_links (at_ts);

-- Linkages stored before this table: read them off the event logs.
INSERT OR IGNORE INTO emergency_links (ticket_id, seq, at_ts, service, after_secs)
SELECT ticket_id, seq, CAST(strftime('%s', at) AS INTEGER),
       json_extract(body, '$.service'), json_extract(body, '$.after_secs')
FROM events
WHERE json_extract(body, '$.event') = 'linked_emergency';
