-- C13: when the hotline first responded to a request (the first event after registration by an
-- agent, reviewer or supervisor), for the internet channels' 3-minute response figure.
ALTER TABLE tickets ADD COLUMN responded_ts INTEGER;

-- Tickets stored before this column: read the answer off their event logs.
UPDATE tickets SET responded_ts = (
    SELECT MIN(CAST(strftime('%s', e.at) AS INTEGER))
    FROM events e
    WHERE e.ticket_id = tickets.id
      AND e.seq > 1
      AND json_extract(e.body, '$.actor.role') IN ('agent', 'reviewer', 'supervisor')
);
