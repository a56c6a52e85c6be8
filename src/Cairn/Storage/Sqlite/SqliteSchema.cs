using Microsoft.Data.Sqlite;

namespace Cairn.Storage.Sqlite;

/// <summary>Versioned schema migrations, applied in order at start; <c>PRAGMA user_version</c> records the version.</summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        """
        CREATE TABLE projects(
            id INTEGER PRIMARY KEY,
            public_id TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            created INTEGER NOT NULL);
        INSERT INTO projects(id, public_id, name, created) VALUES (1, 'proj_default', 'Default project', unixepoch());

        -- seq orders completions by when they were stored; list pages are keyset ranges over it.
        CREATE TABLE completions(
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            model TEXT NOT NULL,
            created INTEGER NOT NULL,
            metadata TEXT NOT NULL,
            body BLOB NOT NULL);
        CREATE INDEX completions_by_project ON completions(project_id, seq);
        CREATE INDEX completions_by_model ON completions(project_id, model, seq);

        -- One row per metadata pair, so that metadata[k]=v filters walk an index in list order.
        CREATE TABLE completion_metadata(
            project_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY(project_id, key, value, seq)) WITHOUT ROWID;

        CREATE TABLE completion_messages(
            seq INTEGER NOT NULL,
            idx INTEGER NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY(seq, idx));

        -- Deleted ids keep their place so that a client paging with after=<deleted id> can go on.
        CREATE TABLE deleted_completions(
            id TEXT PRIMARY KEY,
            project_id INTEGER NOT NULL,
            seq INTEGER NOT NULL) WITHOUT ROWID;
        """,
        """
        -- Projects are named on the command line (cairn keys create --project NAME) and carry their keys' limits.
        UPDATE projects SET name = 'default' WHERE id = 1;
        CREATE UNIQUE INDEX projects_by_name ON projects(name);
        ALTER TABLE projects ADD COLUMN requests_per_minute INTEGER;
        ALTER TABLE projects ADD COLUMN tokens_per_minute INTEGER;

        -- Only the SHA-256 of a key's secret is kept; hash is what a request is looked up by.
        CREATE TABLE api_keys(
            id TEXT PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            name TEXT NOT NULL,
            redacted TEXT NOT NULL,
            hash BLOB NOT NULL UNIQUE,
            models TEXT,
            created INTEGER NOT NULL,
            revoked INTEGER) WITHOUT ROWID;
        """,
        """
        -- The dashboard (migration 3). What its list shows without reading bodies: the first words of the last user
        -- message and of the answer, and the tokens.
        CREATE TABLE completion_previews(
            seq INTEGER PRIMARY KEY,
            prompt TEXT,
            answer TEXT,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            latency_ms INTEGER);
        -- Text search over prompts and answers, rowid = seq. Contentless: the text is already in the bodies. Accents
        -- count (as in PostgreSQL's simple configuration), so both stores find the same words.
        CREATE VIRTUAL TABLE completion_search USING fts5(
            prompt, answer, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 0');
        -- Requests and tokens per hour, project and model, kept in the transaction of each write, so the overview
        -- never scans completions. first_seq and last_seq bound where the hour's completions lie in storage order,
        -- which turns a time range into a seq range for the list.
        CREATE TABLE completion_rollup(
            project_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            model TEXT NOT NULL,
            requests INTEGER NOT NULL,
            prompt_tokens INTEGER NOT NULL,
            completion_tokens INTEGER NOT NULL,
            first_seq INTEGER NOT NULL,
            last_seq INTEGER NOT NULL,
            PRIMARY KEY(project_id, hour, model)) WITHOUT ROWID;

        -- Completions stored before this migration.
        INSERT INTO completion_previews(seq, prompt, answer, prompt_tokens, completion_tokens)
        SELECT c.seq,
            substr((SELECT json_extract(CAST(m.body AS TEXT), '$.content') FROM completion_messages m
                    WHERE m.seq = c.seq AND json_extract(CAST(m.body AS TEXT), '$.role') = 'user' ORDER BY m.idx DESC LIMIT 1), 1, 200),
            substr(json_extract(CAST(c.body AS TEXT), '$.choices[0].message.content'), 1, 200),
            coalesce(json_extract(CAST(c.body AS TEXT), '$.usage.prompt_tokens'), 0),
            coalesce(json_extract(CAST(c.body AS TEXT), '$.usage.completion_tokens'), 0)
        FROM completions c;
        INSERT INTO completion_search(rowid, prompt, answer)
        SELECT c.seq,
            (SELECT group_concat(json_extract(CAST(m.body AS TEXT), '$.content'), char(10)) FROM completion_messages m WHERE m.seq = c.seq),
            json_extract(CAST(c.body AS TEXT), '$.choices[0].message.content')
        FROM completions c;
        INSERT INTO completion_rollup(project_id, hour, model, requests, prompt_tokens, completion_tokens, first_seq, last_seq)
        SELECT c.project_id, c.created - (c.created % 3600), c.model, count(*), sum(p.prompt_tokens), sum(p.completion_tokens), min(c.seq), max(c.seq)
        FROM completions c JOIN completion_previews p ON p.seq = c.seq
        GROUP BY 1, 2, 3;
        """,
        """
        -- Search words wait here, written in the transaction of their completion, and go into completion_search in
        -- large batches (SqliteCompletionStore.FlushSearchAsync). FTS5 makes a segment per transaction and merges
        -- segments as they pile up; one per group commit made stored creates 5x slower at a million rows.
        CREATE TABLE completion_search_pending(
            seq INTEGER PRIMARY KEY,
            prompt TEXT NOT NULL,
            answer TEXT NOT NULL);
        """,
        """
        -- Stored responses (the Responses API, migration 5). seq is commit order and never reused. A response links to
        -- the one it continued by id (previous_response_id); a chain is read by walking those links (ResponseChainSql).
        -- The columns beside body are what lists and the dashboard read without parsing it.
        CREATE TABLE responses(
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id TEXT NOT NULL UNIQUE,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            model TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            previous_response_id TEXT,
            status TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            request_id TEXT,
            latency_ms INTEGER,
            metadata TEXT NOT NULL,
            body BLOB NOT NULL);
        -- The responses that continued one: what a delete or an expiry folds its context into.
        CREATE INDEX responses_by_previous ON responses(project_id, previous_response_id);

        -- A response's own items in position order: what was folded in front of its input when the response it
        -- continued went (below 0), its own input (from 0), then its output. id is the item's, an input_items cursor.
        CREATE TABLE response_items(
            seq INTEGER NOT NULL,
            position INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('input', 'output')),
            id TEXT NOT NULL,
            body BLOB NOT NULL,
            PRIMARY KEY(seq, position));
        """,
        """
        -- The dashboard's responses (migration 6). Its list walks a project's responses (or a model's) in storage order,
        -- or a metadata pair's rows in response_metadata (the metadata column split into rows, as completion_metadata),
        -- and shows response_previews (the first words of the input and the output), so a page reads no bodies and no
        -- items. Both are written with their response and taken with it.
        CREATE INDEX responses_by_project ON responses(project_id, seq);
        CREATE INDEX responses_by_model ON responses(project_id, model, seq);
        CREATE TABLE response_metadata(
            project_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY(project_id, key, value, seq)) WITHOUT ROWID;
        CREATE TABLE response_previews(
            seq INTEGER PRIMARY KEY,
            input TEXT,
            output TEXT);

        -- Responses stored before this migration: the text of the last user message and of the first output item.
        INSERT INTO response_metadata(project_id, key, value, seq)
        SELECT r.project_id, j.key, j.value, r.seq FROM responses r, json_each(r.metadata) j;
        INSERT INTO response_previews(seq, input, output)
        SELECT r.seq,
            (SELECT substr(json_extract(CAST(i.body AS TEXT), '$.content[0].text'), 1, 200) FROM response_items i
             WHERE i.seq = r.seq AND i.kind = 'input' AND json_extract(CAST(i.body AS TEXT), '$.role') = 'user' ORDER BY i.position DESC LIMIT 1),
            (SELECT substr(coalesce(json_extract(CAST(i.body AS TEXT), '$.content[0].text'), json_extract(CAST(i.body AS TEXT), '$.content[0].refusal'),
                json_extract(CAST(i.body AS TEXT), '$.name') || '(' || json_extract(CAST(i.body AS TEXT), '$.arguments') || ')'), 1, 200)
             FROM response_items i WHERE i.seq = r.seq AND i.kind = 'output' ORDER BY i.position LIMIT 1)
        FROM responses r;
        """,
        """
        -- Tombstones of responses (migration 7), as deleted_completions: a delete or an expiry leaves the id, so that an
        -- import never brings back a response that was deleted here and no response is stored under its id again (the
        -- trigger, which fails as a duplicate id would), and the dashboard can page on from it (seq). Retention drops a
        -- tombstone a day after the response would have expired, as it does the completions' ones.
        CREATE TABLE deleted_responses(
            id TEXT PRIMARY KEY,
            project_id INTEGER NOT NULL,
            seq INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TRIGGER responses_not_deleted BEFORE INSERT ON responses
        WHEN EXISTS (SELECT 1 FROM deleted_responses WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: deleted_responses.id'); END;
        """,
        """
        -- Trace ids (migration 8): the W3C trace of the request that stored a completion or a response, when its trace
        -- was recorded, so the dashboard can link to it. A completion's sits with its latency in its preview row.
        ALTER TABLE completion_previews ADD COLUMN trace_id TEXT;
        ALTER TABLE responses ADD COLUMN trace_id TEXT;
        """,
        """
        -- The search index merged its segments when 16 lay on one level rather than 4 (migration 9); that setting now
        -- comes with the index into its own file (migration 10).
        SELECT 1;
        """,
        """
        -- The search index moved to a file of its own (migration 10, SqliteSearchIndex; its words were copied there
        -- first by SqliteSearchIndex.Adopt). store_identity names this store, so that an index file made for another
        -- store is never read as this one's.
        DROP TABLE IF EXISTS completion_search_pending;
        DROP TABLE IF EXISTS completion_search;
        CREATE TABLE IF NOT EXISTS store_identity(id TEXT NOT NULL);
        INSERT INTO store_identity(id) SELECT lower(hex(randomblob(16))) WHERE NOT EXISTS (SELECT 1 FROM store_identity);
        """,
    ];

    public static int Version => Migrations.Length;

    /// <summary>The migration (0-based) before which the search index is copied into its own file.</summary>
    private const int MovesSearch = 9;

    /// <summary>Applies the migrations the store lacks, up to <paramref name="target"/> (all of them unless told: a test makes old stores).</summary>
    public static void Migrate(SqliteConnection connection, int? target = null)
    {
        var current = Convert.ToInt32(Scalar(connection, "PRAGMA user_version"), System.Globalization.CultureInfo.InvariantCulture);
        if (current > Migrations.Length)
        {
            throw new InvalidOperationException(
                $"The database has schema version {current}, newer than this Cairn knows ({Migrations.Length}). Use a newer Cairn.");
        }
        for (var version = current; version < (target ?? Migrations.Length); version++)
        {
            if (version == MovesSearch)
            {
                SqliteSearchIndex.Adopt(connection);
            }
            Execute(connection, "BEGIN IMMEDIATE");
            try
            {
                Execute(connection, Migrations[version]);
                Execute(connection, $"PRAGMA user_version = {version + 1}");
                Execute(connection, "COMMIT");
            }
            catch
            {
                Execute(connection, "ROLLBACK");
                throw;
            }
        }
    }

    public static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
