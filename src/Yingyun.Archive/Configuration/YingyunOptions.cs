using Yingyun.Archive.Tenants;

namespace Yingyun.Archive.Configuration;

/// <summary>The <c>Yingyun:</c> configuration section (ARCHITECTURE.md §8: these keys are a contract). Bound from
/// appsettings.json, <c>--config FILE</c>, <c>Yingyun__…</c> environment variables and command-line options.</summary>
public sealed class YingyunOptions
{
    public const string Section = "Yingyun";

    /// <summary>Everything the embedded defaults keep on disk (<c>--data</c>, default <c>./yingyun-data</c>).</summary>
    public string DataDirectory { get; set; } = "yingyun-data";

    /// <summary>This process's name in <c>worker_node_id</c> (seed's dicom_object_meta); default: the host name.</summary>
    public string? NodeId { get; set; }

    public DimseOptions Dimse { get; set; } = new();
    public HttpOptions Http { get; set; } = new();
    public StorageOptions Storage { get; set; } = new();
    public EventLogOptions EventLog { get; set; } = new();
    public IndexOptions Index { get; set; } = new();
    public WarehouseOptions Warehouse { get; set; } = new();
    public CacheOptions Cache { get; set; } = new();

    /// <summary>Tenants from configuration (merged into the index store at start; <c>/api/tenants</c> edits them).
    /// None configured: a <c>default</c> tenant that accepts any calling AE.</summary>
    public List<TenantConfig> Tenants { get; set; } = [];

    public List<NodeConfig> Nodes { get; set; } = [];

    public string ResolvedNodeId => string.IsNullOrWhiteSpace(NodeId) ? Environment.MachineName : NodeId!;
}

public sealed class DimseOptions
{
    public int Port { get; set; } = 11112;
    public string AeTitle { get; set; } = "YINGYUN";
    public int MaximumAssociations { get; set; } = 64;

    /// <summary>Interface the DIMSE listener binds to: every interface by default (modalities and PACS call in).</summary>
    public string Address { get; set; } = "0.0.0.0";

    /// <summary>On shutdown, how long associations in progress may take to finish before they are aborted.</summary>
    public int ShutdownTimeoutSeconds { get; set; } = 20;
}

public sealed class HttpOptions
{
    public int Port { get; set; } = 8080;

    /// <summary>Interface the HTTP listener binds to. The embedded default binds 127.0.0.1.</summary>
    public string Address { get; set; } = "127.0.0.1";
}

public sealed class StorageOptions
{
    /// <summary>Blob root; empty: <c>&lt;data&gt;/blobs</c>.</summary>
    public string? Root { get; set; }
}

public sealed class EventLogOptions
{
    /// <summary><c>Embedded</c> (default) or <c>Kafka</c>.</summary>
    public string Provider { get; set; } = "Embedded";
    public string? BootstrapServers { get; set; }
}

public sealed class IndexOptions
{
    /// <summary><c>Sqlite</c> (default, <c>&lt;data&gt;/index.db</c>) or <c>MySql</c>.</summary>
    public string Provider { get; set; } = "Sqlite";
    public string? ConnectionString { get; set; }
}

public sealed class WarehouseOptions
{
    /// <summary><c>DuckDb</c> (default, <c>&lt;data&gt;/warehouse.duckdb</c>) or <c>Doris</c>.</summary>
    public string Provider { get; set; } = "DuckDb";
    public string? ConnectionString { get; set; }
    public string? StreamLoadUrl { get; set; }
}

public sealed class CacheOptions
{
    /// <summary>Redis connection string; empty: in-process only.</summary>
    public string? Redis { get; set; }
}
