namespace Yingyun.Archive.Warehouse;

/// <summary>The DuckDB statements of <see cref="DuckDbWarehouse"/>, generated once from <see cref="WarehouseSchema"/>
/// so that a column added there is created, staged and merged without a second list to keep in step.</summary>
internal static class DuckDbSql
{
    public static string TypeOf(WarehouseColumn column) => column.Type switch
    {
        WarehouseColumnType.Varchar => "VARCHAR",
        WarehouseColumnType.BigInt => "BIGINT",
        WarehouseColumnType.Int => "INTEGER",
        WarehouseColumnType.Double => "DOUBLE",
        WarehouseColumnType.Date => "DATE",
        WarehouseColumnType.DateTime => "TIMESTAMP",
        _ => throw new ArgumentOutOfRangeException(nameof(column), column.Type, "unknown warehouse column type"),
    };

    public static string StageTable(WarehouseTable table) => "stage_" + table.Name;

    public static string CreateTable(WarehouseTable table) =>
        $"CREATE TABLE IF NOT EXISTS {table.Name} (" +
        string.Join(", ", table.Columns.Select(c => $"{c.Name} {TypeOf(c)}{(c.NotNull ? " NOT NULL" : "")}")) +
        $", PRIMARY KEY ({string.Join(", ", table.Key)}))";

    /// <summary>The staging table: the same columns without constraints (rows are checked in the merge). The writer
    /// stages one row per key (the batch's newest), so the merge needs no window over the batch.</summary>
    public static string CreateStage(WarehouseTable table) =>
        $"CREATE TEMP TABLE IF NOT EXISTS {StageTable(table)} (" +
        string.Join(", ", table.Columns.Select(c => $"{c.Name} {TypeOf(c)}")) + ")";

    private static string Names(IEnumerable<WarehouseColumn> columns) => string.Join(", ", columns.Select(c => c.Name));

    private static IEnumerable<WarehouseColumn> NonKey(WarehouseTable table) => table.Columns.Where(c => !table.Key.Contains(c.Name));

    /// <summary>The first delivery of receipts: a plain insert, which the primary key refuses for a trace id already there.</summary>
    public static readonly string InsertObjectMeta = Insert(WarehouseSchema.DicomObjectMeta);

    /// <summary>First receipts of instances: a plain insert, which the primary key refuses for an instance already there.</summary>
    public static readonly string InsertImageMeta = Insert(WarehouseSchema.DicomImageMeta);

    private static string Insert(WarehouseTable table)
    {
        var names = Names(table.Columns);
        return $"INSERT INTO {table.Name} ({names}) SELECT {names} FROM {StageTable(table)}";
    }

    /// <summary>A receipt is one row; a message delivered again carries the same row, and the last one wins (as a Doris
    /// load without a sequence column does).</summary>
    public static readonly string UpsertObjectMeta = Upsert(WarehouseSchema.DicomObjectMeta, versioned: false);

    /// <summary>Newest version wins: a row is replaced only by an equal or larger version (Doris's sequence column).</summary>
    public static readonly string UpsertImageMeta = Upsert(WarehouseSchema.DicomImageMeta, versioned: true);

    private static string Upsert(WarehouseTable table, bool versioned)
    {
        var names = Names(table.Columns);
        return $"INSERT INTO {table.Name} ({names}) SELECT {names} FROM {StageTable(table)} " +
               $"ON CONFLICT ({string.Join(", ", table.Key)}) DO UPDATE SET " +
               string.Join(", ", NonKey(table).Select(c => $"{c.Name} = excluded.{c.Name}")) +
               (versioned ? $" WHERE excluded.version >= {table.Name}.version" : "");
    }

    // ---- dicom_state_meta ------------------------------------------------------------------

    private static readonly string[] StateDerived = ["version", "first_received_time", "last_received_time", "instance_count", "frame_count"];

    /// <summary>The series attributes a receipt carries (everything but the key and the derived columns).</summary>
    private static IEnumerable<WarehouseColumn> StateAttributes =>
        NonKey(WarehouseSchema.DicomStateMeta).Where(c => !StateDerived.Contains(c.Name));

    /// <summary>Merges the staged series rows (one per series, folded from the batch's state and image events by the
    /// writer): attributes from the larger version, arrival times folded with min/max (which any order and any replay
    /// leave the same), counts left alone (<see cref="RecountTouchedSeries"/> keeps them).</summary>
    public static readonly string UpsertState = UpsertStateSql();

    private static string UpsertStateSql()
    {
        var table = WarehouseSchema.DicomStateMeta;
        var t = table.Name;
        var set = new List<string> { $"version = greatest({t}.version, excluded.version)" };
        set.AddRange(StateAttributes.Select(c =>
            $"{c.Name} = CASE WHEN excluded.version >= {t}.version THEN excluded.{c.Name} ELSE {t}.{c.Name} END"));
        set.Add($"first_received_time = least({t}.first_received_time, excluded.first_received_time)");
        set.Add($"last_received_time = greatest({t}.last_received_time, excluded.last_received_time)");
        var names = Names(table.Columns);
        return $"INSERT INTO {t} ({names}) SELECT {names} FROM {StageTable(table)} " +
               $"ON CONFLICT (tenant_id, series_uid) DO UPDATE SET {string.Join(", ", set)}";
    }

    /// <summary>The staged images' series, and the series those instances are in now (different when an instance
    /// moves): run before the image merge.</summary>
    public static readonly string TouchedByImages =
        $"INSERT INTO stage_touched_series SELECT tenant_id, series_uid FROM {StageTable(WarehouseSchema.DicomImageMeta)} " +
        "UNION SELECT o.tenant_id, o.series_uid FROM dicom_image_meta AS o WHERE EXISTS (" +
        $"SELECT 1 FROM {StageTable(WarehouseSchema.DicomImageMeta)} AS n WHERE n.tenant_id = o.tenant_id AND n.sop_uid = o.sop_uid)";

    /// <summary>After a plain insert of new instances: each one adds itself to its series (the insert succeeded, so none
    /// was there before). A missing Number of Frames (0028,0008) is one frame (PS3.3 C.7.6.6).</summary>
    public static readonly string CountInsertedImages =
        "UPDATE dicom_state_meta SET instance_count = instance_count + added.instances, frame_count = frame_count + added.frames FROM (" +
        "SELECT tenant_id, series_uid, count(*) AS instances, sum(coalesce(number_of_frames, 1)) AS frames " +
        $"FROM {StageTable(WarehouseSchema.DicomImageMeta)} GROUP BY tenant_id, series_uid) AS added " +
        "WHERE dicom_state_meta.tenant_id = added.tenant_id AND dicom_state_meta.series_uid = added.series_uid";

    /// <summary>Counts recomputed from <c>dicom_image_meta</c> for the touched series, so they are exact under
    /// re-sends, moves and replays rather than maintained by increments that a replay would repeat. A missing Number
    /// of Frames (0028,0008) is one frame (PS3.3 C.7.6.6).</summary>
    public const string RecountTouchedSeries =
        "UPDATE dicom_state_meta SET instance_count = counted.instance_count, frame_count = counted.frame_count FROM (" +
        "SELECT t.tenant_id, t.series_uid, count(i.sop_uid) AS instance_count, " +
        "coalesce(sum(CASE WHEN i.sop_uid IS NULL THEN 0 ELSE coalesce(i.number_of_frames, 1) END), 0) AS frame_count " +
        "FROM stage_touched_series AS t LEFT JOIN dicom_image_meta AS i ON i.tenant_id = t.tenant_id AND i.series_uid = t.series_uid " +
        "GROUP BY t.tenant_id, t.series_uid) AS counted " +
        "WHERE dicom_state_meta.tenant_id = counted.tenant_id AND dicom_state_meta.series_uid = counted.series_uid " +
        "AND (dicom_state_meta.instance_count <> counted.instance_count OR dicom_state_meta.frame_count <> counted.frame_count)";
}
