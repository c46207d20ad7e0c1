namespace Yingyun.Archive.Index;

/// <summary>The SQLite index schema (ARCHITECTURE.md §6) as migrations: data, applied in order, the schema version
/// in <c>PRAGMA user_version</c>. Every index leads with the tenant (or with a key that belongs to one tenant), so a
/// tenant's queries never touch another's rows.</summary>
internal static class SqliteSchema
{
    public static IReadOnlyList<string> Migrations { get; } =
    [
        // 1: the first schema.
        """
        CREATE TABLE tenant (
            tenant_id     TEXT NOT NULL PRIMARY KEY,
            name          TEXT,
            ae_titles     TEXT NOT NULL DEFAULT '[]',   -- JSON array of AE titles
            allowed_ips   TEXT NOT NULL DEFAULT '[]',   -- JSON array of addresses / CIDR ranges
            resend_policy TEXT NOT NULL DEFAULT 'replace',
            updated_time  TEXT NOT NULL
        ) WITHOUT ROWID;

        CREATE TABLE node (
            tenant_id TEXT NOT NULL,
            ae_title  TEXT NOT NULL,
            host      TEXT NOT NULL,
            port      INTEGER NOT NULL,
            tls       INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (tenant_id, ae_title)
        ) WITHOUT ROWID;

        -- DICOMweb API keys (ARCHITECTURE.md §4): the hash of the key, never the key.
        CREATE TABLE api_key (
            key_id       TEXT NOT NULL PRIMARY KEY,
            tenant_id    TEXT NOT NULL,
            name         TEXT,
            key_hash     TEXT NOT NULL UNIQUE,
            role         TEXT NOT NULL,
            created_time TEXT NOT NULL,
            expires_time TEXT,
            revoked      INTEGER NOT NULL DEFAULT 0
        ) WITHOUT ROWID;
        CREATE INDEX api_key_tenant ON api_key (tenant_id);

        -- Patient/study/series attributes are those of the newest instance version applied (attributes_version);
        -- the counts, the modalities and a study's patient are recomputed from the instance rows whenever a batch
        -- touches them.
        CREATE TABLE patient (
            patient_key          INTEGER PRIMARY KEY,
            tenant_id            TEXT NOT NULL,
            patient_id           TEXT NOT NULL,
            issuer_of_patient_id TEXT,
            patient_name         TEXT,
            patient_name_a       TEXT,   -- upper-cased component groups, for matching (IndexMatching.NameGroups)
            patient_name_i       TEXT,
            patient_name_p       TEXT,
            patient_birth_date   TEXT,
            patient_sex          TEXT,
            attributes_version   INTEGER NOT NULL,
            number_of_studies    INTEGER NOT NULL DEFAULT 0,
            number_of_series     INTEGER NOT NULL DEFAULT 0,
            number_of_instances  INTEGER NOT NULL DEFAULT 0,
            UNIQUE (tenant_id, patient_id)
        );
        CREATE INDEX patient_name_a ON patient (tenant_id, patient_name_a);
        CREATE INDEX patient_name_i ON patient (tenant_id, patient_name_i);
        CREATE INDEX patient_name_p ON patient (tenant_id, patient_name_p);   -- all three: a name key ORs them
        CREATE INDEX patient_birth_date ON patient (tenant_id, patient_birth_date);

        CREATE TABLE study (
            study_key                  INTEGER PRIMARY KEY,
            tenant_id                  TEXT NOT NULL,
            study_uid                  TEXT NOT NULL,
            patient_key                INTEGER NOT NULL,   -- the patient of its newest current instance
            study_date                 TEXT,
            study_time                 TEXT,
            study_time_n               TEXT,   -- HHMMSS.FFFFFF
            accession_number           TEXT,
            study_id                   TEXT,
            study_description          TEXT,
            referring_physician_name   TEXT,
            referring_physician_name_a TEXT,
            referring_physician_name_i TEXT,
            referring_physician_name_p TEXT,
            institution_name           TEXT,
            attributes_version         INTEGER NOT NULL,
            modalities_in_study        TEXT,   -- distinct series modalities, sorted, '\'-separated
            number_of_series           INTEGER NOT NULL DEFAULT 0,
            number_of_instances        INTEGER NOT NULL DEFAULT 0,
            UNIQUE (tenant_id, study_uid)
        );
        CREATE INDEX study_patient ON study (patient_key);
        CREATE INDEX study_date ON study (tenant_id, study_date, study_time_n);
        CREATE INDEX study_accession ON study (tenant_id, accession_number);
        CREATE INDEX study_id ON study (tenant_id, study_id);

        CREATE TABLE series (
            series_key          INTEGER PRIMARY KEY,
            tenant_id           TEXT NOT NULL,
            series_uid          TEXT NOT NULL,
            study_key           INTEGER NOT NULL,
            modality            TEXT,   -- of the newest current instance of the series
            series_number       INTEGER,
            series_description  TEXT,
            body_part_examined  TEXT,
            series_date         TEXT,
            series_time         TEXT,
            series_time_n       TEXT,
            station_name        TEXT,
            attributes_version  INTEGER NOT NULL,
            number_of_instances INTEGER NOT NULL DEFAULT 0,
            UNIQUE (study_key, series_uid)
        );
        CREATE INDEX series_uid ON series (tenant_id, series_uid);
        CREATE INDEX series_study_modality ON series (study_key, modality);
        CREATE INDEX series_modality ON series (tenant_id, modality);

        CREATE TABLE instance (
            instance_key           INTEGER PRIMARY KEY,
            tenant_id              TEXT NOT NULL,
            sop_uid                TEXT NOT NULL,
            series_key             INTEGER NOT NULL,
            study_key              INTEGER NOT NULL,
            patient_key            INTEGER NOT NULL,   -- this version's patient; the study's is its newest instance's
            sop_class_uid          TEXT NOT NULL,
            instance_number        INTEGER,
            content_date           TEXT,
            content_time           TEXT,
            content_time_n         TEXT,
            rows                   INTEGER,
            columns                INTEGER,
            bits_allocated         INTEGER,
            number_of_frames       INTEGER,
            modality               TEXT,
            specific_character_set TEXT,
            transfer_syntax_uid    TEXT NOT NULL,
            file_path              TEXT NOT NULL,   -- relative to the blob root, '/'-separated
            file_size              INTEGER NOT NULL,
            content_hash           TEXT NOT NULL,
            version                INTEGER NOT NULL,
            trace_id               TEXT NOT NULL,
            received_time          TEXT NOT NULL,
            UNIQUE (tenant_id, sop_uid)
        );
        CREATE INDEX instance_series ON instance (series_key, instance_number);
        CREATE INDEX instance_series_version ON instance (series_key, version);
        CREATE INDEX instance_study ON instance (study_key, version);
        CREATE INDEX instance_patient ON instance (patient_key);
        CREATE INDEX instance_sop_class ON instance (tenant_id, sop_class_uid);

        -- Deletions (level IMAGE/SERIES/STUDY): an instance version at or below a tombstone's version is not
        -- applied, so a replayed event cannot bring a deleted instance back.
        CREATE TABLE tombstone (
            tenant_id TEXT NOT NULL,
            level     TEXT NOT NULL,
            uid       TEXT NOT NULL,
            version   INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, level, uid)
        ) WITHOUT ROWID;

        -- Every receipt of the storage consumer (storage_queue): stored, replaced, duplicate, conflict, rejected.
        -- file_path is where the receipt wrote its bytes; stored_path where they are now (a replaced version moves
        -- to <sop>.dcm.v/<version>.dcm), null when nothing was written (duplicate).
        CREATE TABLE instance_version (
            trace_id              TEXT NOT NULL PRIMARY KEY,
            tenant_id             TEXT NOT NULL,
            sop_uid               TEXT NOT NULL,
            study_uid             TEXT NOT NULL,
            series_uid            TEXT NOT NULL,
            patient_id            TEXT NOT NULL,
            sop_class_uid         TEXT NOT NULL,
            transfer_syntax_uid   TEXT NOT NULL,
            version               INTEGER NOT NULL,
            outcome               TEXT NOT NULL,
            file_name             TEXT NOT NULL,
            file_path             TEXT,
            stored_path           TEXT,
            file_size             INTEGER NOT NULL,
            content_hash          TEXT NOT NULL,
            previous_version_path TEXT,
            existing_study_uid    TEXT,
            existing_patient_id   TEXT,
            received_time         TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX instance_version_sop ON instance_version (tenant_id, sop_uid, version);
        CREATE INDEX instance_version_outcome ON instance_version (tenant_id, outcome, received_time);

        -- The ingest's instance registry (IInstanceRegistry): one row per instance, its current version.
        CREATE TABLE registry (
            tenant_id    TEXT NOT NULL,
            sop_uid      TEXT NOT NULL,
            study_uid    TEXT NOT NULL,
            series_uid   TEXT NOT NULL,
            patient_id   TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            version      INTEGER NOT NULL,
            trace_id     TEXT NOT NULL,
            file_path    TEXT NOT NULL,
            file_size    INTEGER NOT NULL,
            PRIMARY KEY (tenant_id, sop_uid)
        ) WITHOUT ROWID;
        """,
    ];
}
