-- What agents did, for the per-agent and per-queue statistics (`GET /api/stats/agents`,
-- `/api/stats/queues`): every state change with its not-ready reason, hold on/off, web items
-- taken. Written by the engine's activity log as the call room reports them.
CREATE TABLE IF NOT EXISTS agent_activity (
    id     INTEGER PRIMARY KEY,
    agent  TEXT NOT NULL,
    at_ms  INTEGER NOT NULL,   -- unix milliseconds
    kind   TEXT NOT NULL,      -- a state (ready, not_ready, reserved, talking, assisting,
                               -- wrap_up, logged_out), hold_on, hold_off or web_item
    detail TEXT,               -- the not-ready reason, or the web item's ticket id
    call   TEXT,               -- the call's public name
    queue  TEXT
);
CREATE INDEX IF NOT EXISTS agent_activity_at ON agent_activity (at_ms);
CREATE INDEX IF NOT EXISTS agent_activity_agent ON agent_activity (agent, at_ms);
