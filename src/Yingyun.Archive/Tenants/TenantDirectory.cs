using System.Collections.Frozen;
using System.Net;
using Yingyun.Archive.Index;
using Yingyun.Dimse;

namespace Yingyun.Archive.Tenants;

/// <summary>Which tenant a sender belongs to (ARCHITECTURE.md §4): the calling AE title, then the tenant's source
/// address allow-list. A tenant with no AE titles is a catch-all that "auto-registers" any AE (the embedded
/// default's <c>default</c> tenant); without one, unknown AEs are refused. A snapshot, refreshed whenever the
/// tenants change (<see cref="RefreshAsync"/>), so resolution on every association costs one dictionary lookup.</summary>
public sealed class TenantDirectory
{
    public const string DefaultTenantId = "default";

    private readonly IIndexStore _store;
    private volatile Snapshot _snapshot = Snapshot.Empty;

    public TenantDirectory(IIndexStore store) => _store = store;

    /// <summary>The tenant of <paramref name="id"/>, or null.</summary>
    public TenantConfig? Get(string id) => _snapshot.ById.GetValueOrDefault(id);

    public IReadOnlyCollection<TenantConfig> All => _snapshot.ById.Values;

    /// <summary>Creates the <c>default</c> catch-all tenant when the store has none at all (a newcomer can send at
    /// once), then loads the snapshot.</summary>
    public async Task InitializeAsync(IEnumerable<TenantConfig> configured, CancellationToken cancellationToken = default)
    {
        foreach (var tenant in configured) await _store.UpsertTenantAsync(Validate(tenant), cancellationToken).ConfigureAwait(false);
        if ((await _store.GetTenantsAsync(cancellationToken).ConfigureAwait(false)).Count == 0)
            await _store.UpsertTenantAsync(new TenantConfig { Id = DefaultTenantId, Name = "Default (accepts any AE)" }, cancellationToken).ConfigureAwait(false);
        await RefreshAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task RefreshAsync(CancellationToken cancellationToken = default) =>
        _snapshot = new Snapshot(await _store.GetTenantsAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>The tenant <paramref name="callingAeTitle"/> sends for from <paramref name="remote"/>, or null: refuse.</summary>
    public TenantConfig? Resolve(string callingAeTitle, EndPoint? remote)
    {
        var snapshot = _snapshot;
        IPAddress? address = (remote as IPEndPoint)?.Address;
        if (address is { IsIPv4MappedToIPv6: true }) address = address.MapToIPv4();
        if (snapshot.ByAe.TryGetValue(callingAeTitle.Trim(), out var tenant))
            return IsAllowed(tenant, address) ? tenant : null;
        foreach (var catchAll in snapshot.CatchAll)
            if (IsAllowed(catchAll, address)) return catchAll;
        return null;
    }

    public static ResendPolicy PolicyOf(TenantConfig tenant) => ParsePolicy(tenant.ResendPolicy)
        ?? throw new InvalidOperationException($"tenant '{tenant.Id}': resendPolicy '{tenant.ResendPolicy}' is not one of replace, keepFirst, reject");

    public static ResendPolicy? ParsePolicy(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        null or "" or "replace" => ResendPolicy.Replace,
        "keepfirst" or "keep-first" or "keep_first" => ResendPolicy.KeepFirst,
        "reject" => ResendPolicy.Reject,
        _ => null,
    };

    /// <summary>Checks a tenant's fields; the message names the field at fault. Ids become folder names under the
    /// blob root, so they are restricted like Kafka topic names.</summary>
    public static TenantConfig Validate(TenantConfig tenant)
    {
        if (string.IsNullOrWhiteSpace(tenant.Id) || tenant.Id.Length > 64 || !tenant.Id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || tenant.Id is "." or "..")
            throw new ArgumentException($"tenant id '{tenant.Id}': 1–64 characters of A–Z, a–z, 0–9, '-', '_', '.'", nameof(tenant));
        foreach (var ae in tenant.AeTitles)
            if (ae.Trim().Length is 0 or > 16 || ae.Any(c => c < 0x20 || c > 0x7E || c == '\\'))
                throw new ArgumentException($"tenant '{tenant.Id}': aeTitles entry '{ae}' is not an AE title (1–16 printable ASCII characters, PS3.5 §6.2)", nameof(tenant));
        foreach (var ip in tenant.AllowedIps)
            if (!IPNetwork.TryParse(ip.Contains('/') ? ip : ip + (ip.Contains(':') ? "/128" : "/32"), out _))
                throw new ArgumentException($"tenant '{tenant.Id}': allowedIps entry '{ip}' is neither an address nor a CIDR range", nameof(tenant));
        if (ParsePolicy(tenant.ResendPolicy) is null)
            throw new ArgumentException($"tenant '{tenant.Id}': resendPolicy '{tenant.ResendPolicy}' is not one of replace, keepFirst, reject", nameof(tenant));
        return tenant;
    }

    private static bool IsAllowed(TenantConfig tenant, IPAddress? address)
    {
        if (tenant.AllowedIps.Count == 0) return true;
        if (address is null) return false;
        foreach (var entry in tenant.AllowedIps)
        {
            var text = entry.Contains('/') ? entry : entry + (entry.Contains(':') ? "/128" : "/32");
            if (IPNetwork.TryParse(text, out var network) && network.Contains(address)) return true;
        }
        return false;
    }

    private sealed class Snapshot
    {
        public static readonly Snapshot Empty = new([]);

        public Snapshot(IReadOnlyList<TenantConfig> tenants)
        {
            ById = tenants.ToFrozenDictionary(t => t.Id, StringComparer.Ordinal);
            var byAe = new Dictionary<string, TenantConfig>(StringComparer.Ordinal);
            foreach (var tenant in tenants)
                foreach (var ae in tenant.AeTitles)
                    byAe.TryAdd(ae.Trim(), tenant);
            ByAe = byAe.ToFrozenDictionary(StringComparer.Ordinal);
            CatchAll = [.. tenants.Where(t => t.AeTitles.Count == 0).OrderBy(t => t.Id == DefaultTenantId ? 0 : 1)];
        }

        public FrozenDictionary<string, TenantConfig> ById { get; }
        public FrozenDictionary<string, TenantConfig> ByAe { get; }
        public TenantConfig[] CatchAll { get; }
    }
}

/// <summary>"May this AE associate?" answered by the tenants (ARCHITECTURE.md §4): an AE no tenant claims, or one
/// calling from outside its tenant's allow-list, gets A-ASSOCIATE-RJ permanent, "calling AE title not recognized"
/// (PS3.8 Table 9-21).</summary>
public sealed class TenantAssociationAuthorizer(TenantDirectory tenants) : IAssociationAuthorizer
{
    public ValueTask<AssociationAuthorization> AuthorizeAsync(AssociationRequestContext context, CancellationToken cancellationToken) =>
        ValueTask.FromResult(tenants.Resolve(context.Request.CallingAeTitle, context.RemoteEndPoint) is null
            ? AssociationAuthorization.Rejected(AssociateReject.CallingAeTitleNotRecognized)
            : AssociationAuthorization.Allowed);
}
