using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Yingyun.Dicom;

/// <summary>An entry of the PS3.6 UID registry (Table A-1).</summary>
public sealed record DicomUidInfo(string Uid, string Name, string Type, string Keyword, bool IsRetired)
{
    public bool IsTransferSyntax => Type == "Transfer Syntax";
    public bool IsSopClass => Type == "SOP Class";

    /// <summary>Storage SOP classes: the SOP classes a C-STORE SCP accepts (PS3.4 Annex B).</summary>
    public bool IsStorageSopClass => IsSopClass && (Name.Contains("Storage", StringComparison.Ordinal)
        && !Name.Contains("Commitment", StringComparison.Ordinal) && !Name.Contains("Retrieve", StringComparison.Ordinal)
        && !Name.Contains("Query", StringComparison.Ordinal));
}

public static partial class DicomUids
{
    private static readonly FrozenDictionary<string, DicomUidInfo> Registry =
        CreateRegistry().ToFrozenDictionary(u => u.Uid, StringComparer.Ordinal);

    public static IEnumerable<DicomUidInfo> All => Registry.Values;

    public static bool TryGet(string uid, [NotNullWhen(true)] out DicomUidInfo? info) => Registry.TryGetValue(uid, out info);

    public static string GetName(string uid) => Registry.TryGetValue(uid, out var i) ? i.Name : uid;
}
