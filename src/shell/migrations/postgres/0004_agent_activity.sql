-- What agents did, for the per-agent and per-queue statistics (SQLite's 0007): every state
-- change with its not-ready reason, hold on/off, web items taken.
CREATE TABLE agent_activity (
    id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent  TEXT NOT NULL,
    at_ms  BIGINT NOT NULL,    -- unix milliseconds
    kind   TEXT NOT NULL,      -- a state, hold_on, hold_off or web_item
    detail TEXT,               -- the not-ready reason, or the web item's ticket id
    call   TEXT,               -- the call's public name
    queue  TEXT
);
CREATE INDEX agent_activity_at ON agent_activity (at_ms);
CREATE INDEX agent_activity_agent ON agent_activity (agent, at_ms);
