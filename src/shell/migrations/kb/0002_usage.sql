-- How the knowledge base is used (issue 16, the supervisors' knowledge page): the items tickets
-- cite (one row per ticket, item, version and kind, so a retried action counts once), how often
-- each item was listed by a search, and the searches that found nothing (their words, masked,
-- with how often and when they were asked).
CREATE TABLE kb_citations (
    ticket TEXT NOT NULL,
    item INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (ticket, item, version, kind)
) WITHOUT ROWID;
CREATE INDEX kb_citations_item ON kb_citations(item);

CREATE TABLE kb_shown (
    item INTEGER PRIMARY KEY,
    count INTEGER NOT NULL
);

CREATE TABLE kb_gaps (
    query TEXT PRIMARY KEY,
    staff INTEGER NOT NULL,
    public INTEGER NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL
) WITHOUT ROWID;
