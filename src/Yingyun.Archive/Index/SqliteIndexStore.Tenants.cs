using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;
using Yingyun.Archive.Tenants;

namespace Yingyun.Archive.Index;

public sealed partial class SqliteIndexStore
{
    private const string TenantColumns = "tenant_id, name, ae_titles, allowed_ips, resend_policy";

    public Task<IReadOnlyList<TenantConfig>> GetTenantsAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TenantConfig>>(Read($"SELECT {TenantColumns} FROM tenant ORDER BY tenant_id", [], ReadTenant));

    public Task<TenantConfig?> GetTenantAsync(string id, CancellationToken cancellationToken = default) =>
        Task.FromResult(Read($"SELECT {TenantColumns} FROM tenant WHERE tenant_id = @p0", [id], ReadTenant).FirstOrDefault());

    public Task UpsertTenantAsync(TenantConfig tenant, CancellationToken cancellationToken = default) =>
        WriteDurablyAsync((writer, transaction) => writer.Command("""
            INSERT INTO tenant (tenant_id, name, ae_titles, allowed_ips, resend_policy, updated_time) VALUES (@p0, @p1, @p2, @p3, @p4, @p5)
            ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, ae_titles = excluded.ae_titles, allowed_ips = excluded.allowed_ips,
                resend_policy = excluded.resend_policy, updated_time = excluded.updated_time
            """, 6).With(transaction, tenant.Id, tenant.Name, JsonSerializer.Serialize(tenant.AeTitles, IndexJson.Default.ListString),
                JsonSerializer.Serialize(tenant.AllowedIps, IndexJson.Default.ListString), tenant.ResendPolicy, FormatTime(DateTimeOffset.UtcNow))
            .ExecuteNonQuery(), cancellationToken);

    /// <summary>Deletes the tenant and its nodes; its images stay (deleting data is the DELETE issue's business).</summary>
    public Task<bool> DeleteTenantAsync(string id, CancellationToken cancellationToken = default) =>
        WriteDurablyAsync((writer, transaction) =>
        {
            writer.Command("DELETE FROM node WHERE tenant_id = @p0", 1).With(transaction, id).ExecuteNonQuery();
            return writer.Command("DELETE FROM tenant WHERE tenant_id = @p0", 1).With(transaction, id).ExecuteNonQuery() > 0;
        }, cancellationToken);

    public Task<IReadOnlyList<NodeConfig>> GetNodesAsync(string? tenant = null, CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<NodeConfig>>(tenant is null
            ? Read("SELECT tenant_id, ae_title, host, port, tls FROM node ORDER BY tenant_id, ae_title", [], ReadNode)
            : Read("SELECT tenant_id, ae_title, host, port, tls FROM node WHERE tenant_id = @p0 ORDER BY ae_title", [tenant], ReadNode));

    public Task UpsertNodeAsync(NodeConfig node, CancellationToken cancellationToken = default) =>
        WriteDurablyAsync((writer, transaction) => writer.Command("""
            INSERT INTO node (tenant_id, ae_title, host, port, tls) VALUES (@p0, @p1, @p2, @p3, @p4)
            ON CONFLICT (tenant_id, ae_title) DO UPDATE SET host = excluded.host, port = excluded.port, tls = excluded.tls
            """, 5).With(transaction, node.Tenant, node.AeTitle.Trim(), node.Host, node.Port, node.Tls ? 1 : 0).ExecuteNonQuery(), cancellationToken);

    public Task<bool> DeleteNodeAsync(string tenant, string aeTitle, CancellationToken cancellationToken = default) =>
        WriteDurablyAsync((writer, transaction) =>
            writer.Command("DELETE FROM node WHERE tenant_id = @p0 AND ae_title = @p1", 2).With(transaction, tenant, aeTitle.Trim()).ExecuteNonQuery() > 0,
            cancellationToken);

    private List<T> Read<T>(string sql, object?[] parameters, Func<SqliteDataReader, T> map)
    {
        var session = RentReader();
        try
        {
            using var reader = session.Command(sql, parameters.Length).With(null, parameters).ExecuteReader();
            var list = new List<T>();
            while (reader.Read()) list.Add(map(reader));
            return list;
        }
        finally
        {
            ReturnReader(session);
        }
    }

    private static TenantConfig ReadTenant(SqliteDataReader r) => new()
    {
        Id = r.GetString(0),
        Name = r.GetStringOrNull(1),
        AeTitles = JsonSerializer.Deserialize(r.GetString(2), IndexJson.Default.ListString) ?? [],
        AllowedIps = JsonSerializer.Deserialize(r.GetString(3), IndexJson.Default.ListString) ?? [],
        ResendPolicy = r.GetString(4),
    };

    private static NodeConfig ReadNode(SqliteDataReader r) => new()
    {
        Tenant = r.GetString(0),
        AeTitle = r.GetString(1),
        Host = r.GetString(2),
        Port = r.GetInt32(3),
        Tls = r.GetInt64(4) != 0,
    };
}

[JsonSerializable(typeof(List<string>))]
internal sealed partial class IndexJson : JsonSerializerContext;
