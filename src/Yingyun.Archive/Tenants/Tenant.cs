using System.Text.Json.Serialization;

namespace Yingyun.Archive.Tenants;

/// <summary>What happens when a SOP Instance UID arrives again with different content (ARCHITECTURE.md §5).
/// Identical content is always a <c>duplicate</c>; a move to another study or patient is always a <c>conflict</c>.</summary>
public enum ResendPolicy
{
    /// <summary>The newest version wins; the prior one is kept as a version (the default, like Doris's sequence column).</summary>
    Replace,
    /// <summary>The first version stays; the new content is kept aside as a rejected receipt (C-STORE warning B006H "elements discarded").</summary>
    KeepFirst,
    /// <summary>A changed re-send is refused and kept aside (C-STORE failure 0111H "duplicate SOP instance", PS3.7 Annex C).</summary>
    Reject,
}

/// <summary>A tenant: one hospital (ARCHITECTURE.md §4). The JSON shape of <c>/api/tenants</c> and of the
/// <c>Yingyun:Tenants</c> configuration entries (§8 contract):
/// <c>{"id":"hospital-a","name":"…","aeTitles":["CT01","PACS1"],"allowedIps":[],"resendPolicy":"replace"}</c>.</summary>
public sealed class TenantConfig
{
    [JsonPropertyName("id")] public string Id { get; set; } = "";
    [JsonPropertyName("name")] public string? Name { get; set; }
    /// <summary>Calling AE titles that belong to this tenant.</summary>
    [JsonPropertyName("aeTitles")] public List<string> AeTitles { get; set; } = [];
    /// <summary>Source addresses or CIDR ranges allowed for those AEs; empty: any.</summary>
    [JsonPropertyName("allowedIps")] public List<string> AllowedIps { get; set; } = [];
    /// <summary><c>replace</c> (default), <c>keepFirst</c> or <c>reject</c>.</summary>
    [JsonPropertyName("resendPolicy")] public string ResendPolicy { get; set; } = "replace";
}

/// <summary>A known DICOM node of a tenant: a C-MOVE destination and a compensation source (ARCHITECTURE.md §4).
/// JSON shape of <c>/api/nodes</c> (§8 contract):
/// <c>{"aeTitle":"PACS1","host":"pacs.hospital-a.example","port":104,"tenant":"hospital-a","tls":false}</c>.</summary>
public sealed class NodeConfig
{
    [JsonPropertyName("aeTitle")] public string AeTitle { get; set; } = "";
    [JsonPropertyName("host")] public string Host { get; set; } = "";
    [JsonPropertyName("port")] public int Port { get; set; } = 104;
    [JsonPropertyName("tenant")] public string Tenant { get; set; } = "";
    [JsonPropertyName("tls")] public bool Tls { get; set; }
}
