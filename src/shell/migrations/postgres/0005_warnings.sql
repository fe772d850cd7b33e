-- Early warnings (W19, SQLite's 0009): each raised once (its key), with its rule, when, and
-- the warning as JSON.
CREATE TABLE warnings (
    key        TEXT PRIMARY KEY,
    rule       TEXT NOT NULL,       -- hot_spot, high_frequency, seasonal_due, risk_words
    raised_ts  BIGINT NOT NULL,     -- unix seconds
    body       TEXT NOT NULL        -- the warning as JSON
);
CREATE INDEX warnings_raised ON warnings (raised_ts);
