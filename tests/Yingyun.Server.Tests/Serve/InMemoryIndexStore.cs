using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;

namespace Yingyun.Server.Tests.Serve;

/// <summary>A test double of the index store: tenants, nodes and the registry in dictionaries; the consumers'
/// Apply calls are counted. The server's wiring is what is under test, not the store.</summary>
internal sealed class InMemoryIndexStore : IIndexStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, TenantConfig> _tenants = new(StringComparer.Ordinal);
    private readonly Dictionary<(string, string), NodeConfig> _nodes = [];
    private readonly Dictionary<(string, string), RegistryEntry> _registry = [];

    public int Initialized { get; private set; }

    public bool Disposed { get; private set; }

    public Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        Initialized++;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<TenantConfig>> GetTenantsAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<TenantConfig>>([.. _tenants.Values.Select(Copy)]);
    }

    public Task<TenantConfig?> GetTenantAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_tenants.TryGetValue(id, out var t) ? Copy(t) : null);
    }

    public Task UpsertTenantAsync(TenantConfig tenant, CancellationToken cancellationToken = default)
    {
        lock (_lock) _tenants[tenant.Id] = Copy(tenant);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteTenantAsync(string id, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_tenants.Remove(id));
    }

    public Task<IReadOnlyList<NodeConfig>> GetNodesAsync(string? tenant = null, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult<IReadOnlyList<NodeConfig>>([.. _nodes.Values.Where(n => tenant is null || n.Tenant == tenant).Select(Copy)]);
    }

    public Task UpsertNodeAsync(NodeConfig node, CancellationToken cancellationToken = default)
    {
        lock (_lock) _nodes[(node.Tenant, node.AeTitle)] = Copy(node);
        return Task.CompletedTask;
    }

    public Task<bool> DeleteNodeAsync(string tenant, string aeTitle, CancellationToken cancellationToken = default)
    {
        lock (_lock) return Task.FromResult(_nodes.Remove((tenant, aeTitle)));
    }

    public Task ApplyInstancesAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask<RegistryEntry?> GetRegistryEntryAsync(string tenantId, string sopInstanceUid, CancellationToken cancellationToken = default)
    {
        lock (_lock) return ValueTask.FromResult(_registry.GetValueOrDefault((tenantId, sopInstanceUid)));
    }

    public ValueTask PutRegistryEntryAsync(RegistryEntry entry, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_registry.TryGetValue((entry.TenantId, entry.SopInstanceUid), out var current) || current.Version <= entry.Version)
                _registry[(entry.TenantId, entry.SopInstanceUid)] = entry;
        }
        return ValueTask.CompletedTask;
    }

    public Task ApplyStorageAsync(IReadOnlyList<StorageEvent> batch, CancellationToken cancellationToken = default) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Disposed = true;
        return ValueTask.CompletedTask;
    }

    private static TenantConfig Copy(TenantConfig t) => new()
    {
        Id = t.Id, Name = t.Name, AeTitles = [.. t.AeTitles], AllowedIps = [.. t.AllowedIps], ResendPolicy = t.ResendPolicy,
    };

    private static NodeConfig Copy(NodeConfig n) => new() { AeTitle = n.AeTitle, Host = n.Host, Port = n.Port, Tenant = n.Tenant, Tls = n.Tls };
}
