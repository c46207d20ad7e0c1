using System.Text.Json;
using System.Text.RegularExpressions;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Warehouse;

namespace Yingyun.Archive.Tests.Warehouse;

/// <summary>deploy/doris.sql spells the same tables as <see cref="WarehouseSchema"/> (ARCHITECTURE.md §6: same names and
/// columns in DuckDB and Doris), and its routine load reads exactly what ingest writes to log_queue.</summary>
public sealed partial class DorisSchemaTests
{
    private static readonly Lazy<string> Sql = new(() => File.ReadAllText(Path.Combine(RepositoryRoot(), "deploy", "doris.sql")));

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Yingyun.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no Yingyun.sln above {AppContext.BaseDirectory}");
    }

    private sealed record DorisTable(string Name, List<(string Column, string Type, bool NotNull)> Columns, string[] Key, string? SequenceColumn, string Properties);

    private static Dictionary<string, DorisTable> Tables()
    {
        var tables = new Dictionary<string, DorisTable>();
        foreach (Match table in CreateTable().Matches(Sql.Value))
        {
            var columns = ColumnLine().Matches(table.Groups["columns"].Value)
                .Select(c => (c.Groups["name"].Value, c.Groups["type"].Value, c.Groups["null"].Value == "NOT NULL"))
                .ToList();
            var properties = table.Groups["properties"].Value;
            var sequence = SequenceCol().Match(properties);
            tables.Add(table.Groups["name"].Value, new DorisTable(table.Groups["name"].Value, columns,
                table.Groups["key"].Value.Split(',', StringSplitOptions.TrimEntries), sequence.Success ? sequence.Groups[1].Value : null, properties));
        }

        return tables;
    }

    private static string DorisType(WarehouseColumn column) => column.Type switch
    {
        WarehouseColumnType.Varchar => $"VARCHAR({column.Length})",
        WarehouseColumnType.BigInt => "BIGINT",
        WarehouseColumnType.Int => "INT",
        WarehouseColumnType.Double => "DOUBLE",
        WarehouseColumnType.Date => "DATE",
        WarehouseColumnType.DateTime => "DATETIME(6)",
        _ => throw new ArgumentOutOfRangeException(nameof(column)),
    };

    [Fact]
    public void Every_table_has_the_schema_columns_types_key_and_sequence_column_as_a_merge_on_write_unique_key_table()
    {
        var doris = Tables();
        doris.Keys.Should().BeEquivalentTo(WarehouseSchema.Tables.Select(t => t.Name));
        foreach (var table in WarehouseSchema.Tables)
        {
            var spelled = doris[table.Name];
            spelled.Columns.Should().Equal(table.Columns.Select(c => (c.Name, DorisType(c), c.NotNull)), table.Name);
            spelled.Key.Should().Equal(table.Key, table.Name);
            spelled.SequenceColumn.Should().Be(table.SequenceColumn, table.Name);
            spelled.Properties.Should().Contain("\"enable_unique_key_merge_on_write\" = \"true\"", table.Name);
        }
    }

    [Fact]
    public void The_routine_load_reads_every_log_queue_field_into_its_column_with_the_seeds_jsonpaths_plus_outcome()
    {
        var load = RoutineLoad().Match(Sql.Value);
        load.Success.Should().BeTrue("deploy/doris.sql creates the routine load of the seed");
        var columns = load.Groups["columns"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var paths = JsonPath().Matches(load.Groups["paths"].Value).Select(m => m.Groups[1].Value).ToList();
        load.Groups["topic"].Value.Should().Be("log_queue");

        var table = WarehouseSchema.DicomObjectMeta.Columns.Select(c => c.Name).ToList();
        columns.Should().Equal(table);
        paths.Should().Equal(table);

        // The log_queue message itself: its JSON field names, in order, are the table's columns.
        var message = JsonDocument.Parse(ArchiveEventJson.Serialize(new ObjectMetaEvent()));
        message.RootElement.EnumerateObject().Select(p => p.Name).Should().Equal(table);
    }

    [GeneratedRegex("""CREATE TABLE IF NOT EXISTS (?<name>\w+) \((?<columns>.*?)\n\)\s*ENGINE = OLAP\s*UNIQUE KEY\((?<key>[^)]*)\)(?<properties>.*?)\);""", RegexOptions.Singleline)]
    private static partial Regex CreateTable();

    [GeneratedRegex("""^\s*(?<name>\w+)\s+(?<type>[A-Z]+(?:\(\d+\))?)\s+(?<null>NOT NULL|NULL)\b""", RegexOptions.Multiline)]
    private static partial Regex ColumnLine();

    [GeneratedRegex("""function_column\.sequence_col"\s*=\s*"(\w+)""")]
    private static partial Regex SequenceCol();

    [GeneratedRegex("""CREATE ROUTINE LOAD [\w.]+ ON dicom_object_meta\s*COLUMNS \((?<columns>[^)]*)\).*?"jsonpaths" = "\[(?<paths>.*?)\]".*?"kafka_topic" = "(?<topic>\w+)""", RegexOptions.Singleline)]
    private static partial Regex RoutineLoad();

    [GeneratedRegex("""\$\.(\w+)""")]
    private static partial Regex JsonPath();
}
