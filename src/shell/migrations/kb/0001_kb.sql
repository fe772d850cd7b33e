-- The knowledge base (issue 16). kb_events is the source of truth (an item is rebuilt from
-- its events); kb_versions keeps every version's content for citations; kb_items and
-- kb_served are indexes rewritten at every change (kb_served: the version served, from which
-- the in-memory search index is rebuilt at start).
CREATE TABLE kb_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    unit TEXT NOT NULL,
    category TEXT NOT NULL,
    area TEXT NOT NULL,
    title TEXT NOT NULL,
    state TEXT NOT NULL,
    version INTEGER NOT NULL,
    served INTEGER,
    updated_at TEXT NOT NULL
);
CREATE INDEX kb_items_unit ON kb_items(unit, state);
CREATE INDEX kb_items_state ON kb_items(state);

CREATE TABLE kb_versions (
    item INTEGER NOT NULL REFERENCES kb_items(id),
    version INTEGER NOT NULL,
    content TEXT NOT NULL,
    written_at TEXT NOT NULL,
    written_by TEXT NOT NULL,
    PRIMARY KEY (item, version)
) WITHOUT ROWID;

CREATE TABLE kb_events (
    item INTEGER NOT NULL REFERENCES kb_items(id),
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    kind TEXT NOT NULL,
    event TEXT NOT NULL,
    PRIMARY KEY (item, seq)
) WITHOUT ROWID;

CREATE TABLE kb_served (
    item INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    unit TEXT NOT NULL,
    category TEXT NOT NULL,
    area TEXT NOT NULL,
    effective TEXT NOT NULL,
    expires TEXT,
    public INTEGER NOT NULL,
    content TEXT NOT NULL
);
CREATE INDEX kb_served_expires ON kb_served(expires) WHERE expires IS NOT NULL;
