-- Yingyun warehouse on Apache Doris (scale-out, ARCHITECTURE.md §2, §6).
--
-- The same tables, columns and keys as the embedded DuckDB warehouse (src/Yingyun.Archive/Warehouse/WarehouseSchema.cs;
-- a test keeps the two equal). Every table is UNIQUE KEY with merge-on-write, as in the seed; where two rows of one
-- key can carry different versions, function_column.sequence_col names the column whose larger value wins (the
-- DuckDB adapter does the same with a versioned upsert).
--
-- Conventions: *_time columns are UTC, except study_datetime (Study Date + Study Time, the modality's local time).
-- VARCHAR lengths are UTF-8 bytes: decoded DICOM text (LO, PN, …) may take 3-4 bytes a character.
-- Doris needs the key columns first, in key order; the column lists below keep that order.
--
-- Run with the MySQL client against a Doris FE:  mysql -h FE_HOST -P 9030 -u root < deploy/doris.sql
-- then create the routine load at the end of this file (edit the broker list first).

CREATE DATABASE IF NOT EXISTS yingyun;
USE yingyun;

-- One row per receipt, re-sends included (the seed's table). Exactly the seed's columns in the seed's order, plus
-- `outcome` (stored | replaced | duplicate | conflict | rejected). Two types are wider than the seed's: created_time
-- keeps the microseconds the log_queue message carries, and source_ip holds an IPv6 text form (24 bytes cannot).
-- No sequence column: one trace id is one receipt, every message with it carries the same row.
CREATE TABLE IF NOT EXISTS dicom_object_meta (
    trace_id            VARCHAR(36)   NOT NULL COMMENT "全局唯一追踪ID，作为主键 (one receipt)",
    worker_node_id      VARCHAR(64)   NOT NULL COMMENT "工作节点 ID",
    tenant_id           VARCHAR(64)   NOT NULL COMMENT "租户ID",
    patient_id          VARCHAR(64)   NOT NULL COMMENT "患者ID",
    study_uid           VARCHAR(64)   NULL,
    series_uid          VARCHAR(64)   NULL,
    sop_uid             VARCHAR(64)   NULL,
    file_size           BIGINT        NULL,
    file_path           VARCHAR(1024) NULL,
    transfer_syntax_uid VARCHAR(64)   NULL,
    number_of_frames    INT           NULL,
    created_time        DATETIME(6)   NULL COMMENT "receipt time, UTC",
    series_uid_hash     BIGINT        NULL,
    study_uid_hash      BIGINT        NULL,
    accession_number    VARCHAR(64)   NULL,
    target_ts           VARCHAR(64)   NULL,
    study_date          DATE          NULL,
    transfer_status     VARCHAR(64)   NULL,
    source_ip           VARCHAR(64)   NULL,
    source_ae           VARCHAR(64)   NULL,
    outcome             VARCHAR(16)   NULL COMMENT "stored | replaced | duplicate | conflict | rejected"
)
ENGINE = OLAP
UNIQUE KEY(trace_id)
COMMENT "DICOM 对象元数据表: one row per receipt"
DISTRIBUTED BY HASH(trace_id) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- Series level: the attributes of the newest receipt of the series, first and last arrival, and the number of
-- current instances and frames (recomputed from dicom_image_meta by the writer for every series a batch touches).
CREATE TABLE IF NOT EXISTS dicom_state_meta (
    tenant_id           VARCHAR(64)   NOT NULL,
    series_uid          VARCHAR(64)   NOT NULL,
    version             BIGINT        NOT NULL COMMENT "largest receipt version of the series (sequence column)",
    trace_id            VARCHAR(36)   NOT NULL COMMENT "the receipt the attributes come from",
    outcome             VARCHAR(16)   NULL,
    source_ae           VARCHAR(64)   NULL,
    patient_id          VARCHAR(64)   NOT NULL,
    patient_name        VARCHAR(1024) NULL,
    patient_sex         VARCHAR(16)   NULL,
    patient_birth_date  DATE          NULL,
    study_uid           VARCHAR(64)   NOT NULL,
    study_date          DATE          NULL,
    study_time          VARCHAR(32)   NULL COMMENT "TM as stored",
    study_datetime      DATETIME(6)   NULL COMMENT "study date + time, modality local time",
    accession_number    VARCHAR(64)   NULL,
    study_description   VARCHAR(256)  NULL,
    institution_name    VARCHAR(256)  NULL,
    modality            VARCHAR(16)   NULL,
    series_number       INT           NULL,
    series_description  VARCHAR(256)  NULL,
    body_part_examined  VARCHAR(16)   NULL,
    first_received_time DATETIME(6)   NULL,
    last_received_time  DATETIME(6)   NULL,
    instance_count      BIGINT        NOT NULL,
    frame_count         BIGINT        NOT NULL
)
ENGINE = OLAP
UNIQUE KEY(tenant_id, series_uid)
COMMENT "DICOM 序列状态表: one row per series"
DISTRIBUTED BY HASH(tenant_id, series_uid) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "version",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- Instance level: the current version of every instance (stored and replaced receipts), with its patient, study
-- and series attributes. image_rows/image_columns are Rows (0028,0010) and Columns (0028,0011): ROWS is reserved.
CREATE TABLE IF NOT EXISTS dicom_image_meta (
    tenant_id                VARCHAR(64)   NOT NULL,
    sop_uid                  VARCHAR(64)   NOT NULL,
    version                  BIGINT        NOT NULL COMMENT "receipt sequence, UTC ticks (sequence column)",
    trace_id                 VARCHAR(36)   NOT NULL,
    outcome                  VARCHAR(16)   NULL,
    received_time            DATETIME(6)   NULL,
    source_ae                VARCHAR(64)   NULL,
    source_ip                VARCHAR(64)   NULL,
    patient_id               VARCHAR(64)   NOT NULL,
    issuer_of_patient_id     VARCHAR(256)  NULL,
    patient_name             VARCHAR(1024) NULL,
    patient_birth_date       DATE          NULL,
    patient_sex              VARCHAR(16)   NULL,
    study_uid                VARCHAR(64)   NOT NULL,
    study_date               DATE          NULL,
    study_time               VARCHAR(32)   NULL,
    study_datetime           DATETIME(6)   NULL,
    accession_number         VARCHAR(64)   NULL,
    study_id                 VARCHAR(64)   NULL,
    study_description        VARCHAR(256)  NULL,
    referring_physician_name VARCHAR(1024) NULL,
    institution_name         VARCHAR(256)  NULL,
    series_uid               VARCHAR(64)   NOT NULL,
    modality                 VARCHAR(16)   NULL,
    series_number            INT           NULL,
    series_description       VARCHAR(256)  NULL,
    body_part_examined       VARCHAR(16)   NULL,
    series_date              DATE          NULL,
    series_time              VARCHAR(32)   NULL,
    station_name             VARCHAR(64)   NULL,
    sop_class_uid            VARCHAR(64)   NULL,
    instance_number          INT           NULL,
    content_date             DATE          NULL,
    content_time             VARCHAR(32)   NULL,
    image_rows               INT           NULL,
    image_columns            INT           NULL,
    bits_allocated           INT           NULL,
    number_of_frames         INT           NULL,
    specific_character_set   VARCHAR(128)  NULL,
    transfer_syntax_uid      VARCHAR(64)   NULL,
    file_path                VARCHAR(1024) NULL,
    file_size                BIGINT        NULL,
    content_hash             VARCHAR(64)   NULL
)
ENGINE = OLAP
UNIQUE KEY(tenant_id, sop_uid)
COMMENT "DICOM 影像表: one row per instance, newest version"
DISTRIBUTED BY HASH(tenant_id, sop_uid) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "version",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- Transcode outcomes (the seed: 转换失败的写入转换记录表). One row per instance version and target syntax; a re-run
-- has a larger attempt_number and replaces it.
CREATE TABLE IF NOT EXISTS transcode_record (
    tenant_id      VARCHAR(64)   NOT NULL,
    sop_uid        VARCHAR(64)   NOT NULL,
    version        BIGINT        NOT NULL COMMENT "instance version transcoded",
    target_ts      VARCHAR(64)   NOT NULL,
    attempt_number INT           NOT NULL COMMENT "1, 2, … (sequence column)",
    trace_id       VARCHAR(36)   NULL,
    study_uid      VARCHAR(64)   NULL,
    series_uid     VARCHAR(64)   NULL,
    source_ts      VARCHAR(64)   NULL,
    outcome        VARCHAR(16)   NULL COMMENT "success | failure",
    error_message  VARCHAR(1024) NULL,
    started_time   DATETIME(6)   NULL,
    finished_time  DATETIME(6)   NULL,
    output_path    VARCHAR(1024) NULL,
    output_size    BIGINT        NULL,
    worker_node_id VARCHAR(64)   NULL
)
ENGINE = OLAP
UNIQUE KEY(tenant_id, sop_uid, version, target_ts)
COMMENT "转换记录表"
DISTRIBUTED BY HASH(tenant_id, sop_uid) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "attempt_number",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- DICOMweb requests (ARCHITECTURE.md §4). tenant_id: whose data was served (NULL for a region-wide query).
CREATE TABLE IF NOT EXISTS dicom_access_log (
    request_id          VARCHAR(36)   NOT NULL,
    tenant_id           VARCHAR(64)   NULL,
    access_time         DATETIME(6)   NULL,
    principal           VARCHAR(128)  NULL,
    principal_tenant_id VARCHAR(64)   NULL,
    client_ip           VARCHAR(64)   NULL,
    http_method         VARCHAR(8)    NULL,
    service             VARCHAR(32)   NULL,
    request_path        VARCHAR(2048) NULL,
    study_uid           VARCHAR(64)   NULL,
    series_uid          VARCHAR(64)   NULL,
    sop_uid             VARCHAR(64)   NULL,
    status_code         INT           NULL,
    response_bytes      BIGINT        NULL,
    first_byte_ms       DOUBLE        NULL,
    elapsed_ms          DOUBLE        NULL,
    worker_node_id      VARCHAR(64)   NULL
)
ENGINE = OLAP
UNIQUE KEY(request_id)
COMMENT "调阅日志表"
DISTRIBUTED BY HASH(request_id) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- Exam records from the hospitals' RIS (ARCHITECTURE.md §7). Times UTC; a later updated_time replaces the record.
CREATE TABLE IF NOT EXISTS exam_record (
    tenant_id             VARCHAR(64)   NOT NULL,
    accession_number      VARCHAR(64)   NOT NULL,
    updated_time          DATETIME(6)   NOT NULL COMMENT "sequence column",
    patient_id            VARCHAR(64)   NULL,
    issuer_of_patient_id  VARCHAR(256)  NULL,
    patient_name          VARCHAR(1024) NULL,
    patient_sex           VARCHAR(16)   NULL,
    patient_birth_date    DATE          NULL,
    study_uid             VARCHAR(64)   NULL,
    exam_time             DATETIME(6)   NULL,
    exam_class            VARCHAR(16)   NULL COMMENT "emergency | outpatient | inpatient | physical",
    modality              VARCHAR(16)   NULL,
    body_part             VARCHAR(64)   NULL,
    exam_item_code        VARCHAR(64)   NULL,
    exam_item_name        VARCHAR(256)  NULL,
    expected_series_count INT           NULL,
    expected_image_count  INT           NULL,
    report_time           DATETIME(6)   NULL,
    received_time         DATETIME(6)   NULL,
    record_source         VARCHAR(16)   NULL COMMENT "rest | csv"
)
ENGINE = OLAP
UNIQUE KEY(tenant_id, accession_number)
COMMENT "检查记录表"
DISTRIBUTED BY HASH(tenant_id, accession_number) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "updated_time",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- Indicator values: one row per indicator, tenant, dimension key ('' = whole tenant) and window; newest computation wins.
CREATE TABLE IF NOT EXISTS quality_result (
    indicator_id    VARCHAR(32)  NOT NULL,
    tenant_id       VARCHAR(64)  NOT NULL,
    dimension_key   VARCHAR(256) NOT NULL,
    window_start    DATETIME(6)  NOT NULL,
    window_end      DATETIME(6)  NOT NULL,
    numerator       DOUBLE       NULL,
    denominator     DOUBLE       NULL,
    indicator_value DOUBLE       NULL,
    result_status   VARCHAR(16)  NULL COMMENT "ok | warn | alert | no_data",
    computed_time   DATETIME(6)  NOT NULL COMMENT "sequence column"
)
ENGINE = OLAP
UNIQUE KEY(indicator_id, tenant_id, dimension_key, window_start, window_end)
COMMENT "质控指标结果表"
DISTRIBUTED BY HASH(tenant_id) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "computed_time",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

CREATE TABLE IF NOT EXISTS quality_alert (
    alert_id        VARCHAR(36)   NOT NULL,
    tenant_id       VARCHAR(64)   NOT NULL,
    indicator_id    VARCHAR(32)   NOT NULL,
    dimension_key   VARCHAR(256)  NULL,
    severity        VARCHAR(16)   NULL COMMENT "warn | alert",
    alert_kind      VARCHAR(16)   NULL COMMENT "threshold | anomaly",
    alert_status    VARCHAR(16)   NULL COMMENT "open | closed",
    opened_time     DATETIME(6)   NULL,
    closed_time     DATETIME(6)   NULL,
    window_start    DATETIME(6)   NULL,
    window_end      DATETIME(6)   NULL,
    indicator_value DOUBLE        NULL,
    threshold       DOUBLE        NULL,
    alert_message   VARCHAR(1024) NULL,
    pushed_time     DATETIME(6)   NULL,
    updated_time    DATETIME(6)   NOT NULL COMMENT "sequence column"
)
ENGINE = OLAP
UNIQUE KEY(alert_id)
COMMENT "质控告警表"
DISTRIBUTED BY HASH(alert_id) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "updated_time",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

CREATE TABLE IF NOT EXISTS quality_todo (
    todo_id             VARCHAR(36)   NOT NULL,
    tenant_id           VARCHAR(64)   NOT NULL,
    alert_id            VARCHAR(36)   NULL,
    indicator_id        VARCHAR(32)   NULL,
    title               VARCHAR(256)  NULL,
    todo_status         VARCHAR(16)   NULL COMMENT "open | in_progress | done | auto_closed",
    assignee            VARCHAR(128)  NULL,
    created_time        DATETIME(6)   NULL,
    due_time            DATETIME(6)   NULL,
    closed_time         DATETIME(6)   NULL,
    compensation        VARCHAR(32)   NULL COMMENT "c-move | retranscode",
    compensation_status VARCHAR(16)   NULL,
    todo_note           VARCHAR(1024) NULL,
    updated_time        DATETIME(6)   NOT NULL COMMENT "sequence column"
)
ENGINE = OLAP
UNIQUE KEY(todo_id)
COMMENT "质控待办表"
DISTRIBUTED BY HASH(todo_id) BUCKETS 10
PROPERTIES (
    "replication_num" = "1",
    "enable_unique_key_merge_on_write" = "true",
    "function_column.sequence_col" = "updated_time",
    "light_schema_change" = "true",
    "store_row_column" = "true"
);

-- Routine Load: dicom_object_meta straight from Kafka's log_queue, as in the seed, with the seed's jsonpaths and
-- `outcome` added. Every partition of log_queue is read (Yingyun's topics have several; the seed named only 0).
-- Non-strict mode (the default) loads an unreadable date as NULL, as the DuckDB writer does.
-- To re-create it: STOP ROUTINE LOAD FOR yingyun.dicom_routine_load; then run the statement again.
CREATE ROUTINE LOAD yingyun.dicom_routine_load ON dicom_object_meta
COLUMNS (
    trace_id,
    worker_node_id,
    tenant_id,
    patient_id,
    study_uid,
    series_uid,
    sop_uid,
    file_size,
    file_path,
    transfer_syntax_uid,
    number_of_frames,
    created_time,
    series_uid_hash,
    study_uid_hash,
    accession_number,
    target_ts,
    study_date,
    transfer_status,
    source_ip,
    source_ae,
    outcome
)
PROPERTIES (
    "desired_concurrent_number" = "3",
    "max_batch_interval" = "10",
    "max_batch_rows" = "300000",
    "max_batch_size" = "209715200",
    "format" = "json",
    "jsonpaths" = "[\"$.trace_id\",
                    \"$.worker_node_id\",
                    \"$.tenant_id\",
                    \"$.patient_id\",
                    \"$.study_uid\",
                    \"$.series_uid\",
                    \"$.sop_uid\",
                    \"$.file_size\",
                    \"$.file_path\",
                    \"$.transfer_syntax_uid\",
                    \"$.number_of_frames\",
                    \"$.created_time\",
                    \"$.series_uid_hash\",
                    \"$.study_uid_hash\",
                    \"$.accession_number\",
                    \"$.target_ts\",
                    \"$.study_date\",
                    \"$.transfer_status\",
                    \"$.source_ip\",
                    \"$.source_ae\",
                    \"$.outcome\"]",
    "max_error_number" = "1000"
)
FROM KAFKA (
    "kafka_broker_list" = "kafka:9092",
    "kafka_topic" = "log_queue",
    "property.group.id" = "doris_dicom_routine_load",
    "property.kafka_default_offsets" = "OFFSET_BEGINNING"
);

SHOW ROUTINE LOAD FOR yingyun.dicom_routine_load;
