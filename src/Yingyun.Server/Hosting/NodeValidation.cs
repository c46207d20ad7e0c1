using Yingyun.Archive.Tenants;
using Yingyun.Dimse;

namespace Yingyun.Server.Hosting;

/// <summary>A field of a tenant or node that is wrong, named as in its JSON shape (ARCHITECTURE.md §8).</summary>
public sealed record FieldProblem(string Field, string Message);

/// <summary>Checks of the <c>/api/nodes</c> shape and of configured <c>Yingyun:Nodes</c>.</summary>
public static class NodeValidation
{
    public static FieldProblem? Check(NodeConfig node, TenantDirectory tenants)
    {
        if (string.IsNullOrWhiteSpace(node.AeTitle) || !ApplicationEntityTitle.IsValid(node.AeTitle))
            return new("aeTitle", $"aeTitle '{node.AeTitle}' is not an AE title (1–16 printable ASCII characters, no backslash, PS3.5 §6.2)");
        if (string.IsNullOrWhiteSpace(node.Host) || Uri.CheckHostName(node.Host.Trim()) == UriHostNameType.Unknown)
            return new("host", $"host '{node.Host}' is neither a host name nor an IP address");
        if (node.Port is < 1 or > 65535)
            return new("port", $"port {node.Port} is not a TCP port (1–65535)");
        if (string.IsNullOrWhiteSpace(node.Tenant) || tenants.Get(node.Tenant) is null)
            return new("tenant", $"tenant '{node.Tenant}' does not exist (known: {string.Join(", ", tenants.All.Select(t => t.Id).Order(StringComparer.Ordinal))})");
        return null;
    }
}

/// <summary>Checks of the <c>/api/tenants</c> shape: <see cref="TenantDirectory.Validate"/>, which names the field in
/// its message, and that no AE title is claimed by two tenants (the directory could not tell which one sends).</summary>
public static class TenantValidation
{
    public static FieldProblem? Check(TenantConfig tenant, TenantDirectory tenants)
    {
        tenant.AeTitles ??= [];
        tenant.AllowedIps ??= [];
        try
        {
            TenantDirectory.Validate(tenant);
        }
        catch (ArgumentException ex)
        {
            return new FieldProblem(FieldAtFault(tenant), ex.Message);
        }
        foreach (var ae in tenant.AeTitles)
        {
            var owner = tenants.All.FirstOrDefault(t => t.Id != tenant.Id && t.AeTitles.Any(a => string.Equals(a.Trim(), ae.Trim(), StringComparison.Ordinal)));
            if (owner is not null)
                return new FieldProblem("aeTitles", $"tenant '{tenant.Id}': aeTitles entry '{ae}' already belongs to tenant '{owner.Id}'");
        }
        return null;
    }

    /// <summary>Validate checks id, aeTitles, allowedIps and resendPolicy in turn; the first prefix of those fields that
    /// fails on its own is the field at fault.</summary>
    private static string FieldAtFault(TenantConfig tenant)
    {
        var probe = new TenantConfig { Id = tenant.Id };
        if (!Passes(probe)) return "id";
        probe.AeTitles = tenant.AeTitles;
        if (!Passes(probe)) return "aeTitles";
        probe.AllowedIps = tenant.AllowedIps;
        return Passes(probe) ? "resendPolicy" : "allowedIps";
    }

    private static bool Passes(TenantConfig probe)
    {
        try
        {
            TenantDirectory.Validate(probe);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
