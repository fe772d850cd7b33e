-- Early warnings (W19, issue 17): each raised once (its key), kept with its rule, when, the
-- figures and threshold (body, JSON) and the requests behind it.
CREATE TABLE IF NOT EXISTS warnings (
    key        TEXT PRIMARY KEY,
    rule       TEXT NOT NULL,       -- hot_spot, high_frequency, seasonal_due, risk_words
    raised_ts  INTEGER NOT NULL,    -- unix seconds
    body       TEXT NOT NULL        -- the warning as JSON
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS warnings_raised ON warnings (raised_ts);
