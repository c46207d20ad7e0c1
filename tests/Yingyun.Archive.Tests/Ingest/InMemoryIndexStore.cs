using System.Collections.Concurrent;
using Yingyun.Archive.Index;
using Yingyun.Archive.Ingest;
using Yingyun.Archive.Tenants;

namespace Yingyun.Archive.Tests.Ingest;

/// <summary>Tenants and the instance registry in memory: enough of the index store for ingest's own tests (the
/// SQLite store has its own).</summary>
internal sealed class InMemoryIndexStore : IIndexStore
{
    private readonly ConcurrentDictionary<string, TenantConfig> _tenants = new();
    private readonly ConcurrentDictionary<(string, string), RegistryEntry> _registry = new();

    public IReadOnlyDictionary<(string Tenant, string Sop), RegistryEntry> Registry => _registry;

    public Task InitializeAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
    public Task<IReadOnlyList<TenantConfig>> GetTenantsAsync(CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<TenantConfig>>([.. _tenants.Values]);
    public Task<TenantConfig?> GetTenantAsync(string id, CancellationToken cancellationToken = default) => Task.FromResult(_tenants.GetValueOrDefault(id));
    public Task UpsertTenantAsync(TenantConfig tenant, CancellationToken cancellationToken = default) { _tenants[tenant.Id] = tenant; return Task.CompletedTask; }
    public Task<bool> DeleteTenantAsync(string id, CancellationToken cancellationToken = default) => Task.FromResult(_tenants.TryRemove(id, out _));
    public Task<IReadOnlyList<NodeConfig>> GetNodesAsync(string? tenant = null, CancellationToken cancellationToken = default) => Task.FromResult<IReadOnlyList<NodeConfig>>([]);
    public Task UpsertNodeAsync(NodeConfig node, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task<bool> DeleteNodeAsync(string tenant, string aeTitle, CancellationToken cancellationToken = default) => throw new NotSupportedException();
    public Task ApplyInstancesAsync(IReadOnlyList<InstanceEvent> batch, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask<RegistryEntry?> GetRegistryEntryAsync(string tenantId, string sopInstanceUid, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(_registry.GetValueOrDefault((tenantId, sopInstanceUid)));

    public ValueTask PutRegistryEntryAsync(RegistryEntry entry, CancellationToken cancellationToken = default)
    {
        _registry.AddOrUpdate((entry.TenantId, entry.SopInstanceUid), entry, (_, old) => old.Version > entry.Version ? old : entry);
        return ValueTask.CompletedTask;
    }

    public Task ApplyStorageAsync(IReadOnlyList<StorageEvent> batch, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
