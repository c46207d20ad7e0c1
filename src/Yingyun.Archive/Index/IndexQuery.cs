using Yingyun.Dicom;

namespace Yingyun.Archive.Index;

/// <summary>The four levels of the index (PS3.4 §C.3: patient, study, series, composite object instance). The values
/// order them top-down, so "above the query level" is a smaller value.</summary>
public enum IndexLevel
{
    Patient = 0,
    Study = 1,
    Series = 2,
    Instance = 3,
}

/// <summary>One matching key: an attribute and its value as the requester wrote it (PS3.4 §C.2.2.2 syntax: empty or
/// "*" universal, "*"/"?" wildcards, "a-b" ranges for DA/TM/DT, '\'-separated lists). C-FIND takes it from the
/// identifier, QIDO-RS from <c>{attributeID}={value}</c> (PS3.18 §8.3.4).</summary>
public sealed record IndexMatch(DicomTag Tag, string Value);

/// <summary>A query over the index, independent of the protocol that asked it: the C-FIND adapter
/// (<see cref="IndexQueryHandler"/>) builds one from an identifier, QIDO-RS (PS3.18 §10.6) from its query parameters.
/// The store answers with one data set per matching entity of <see cref="Level"/>, holding the
/// <see cref="ReturnKeys"/> the index knows (see <see cref="IndexAttributes"/>), strings in UTF-8 (Specific Character
/// Set ISO_IR 192).</summary>
public sealed class IndexQuery
{
    public IndexQuery(IndexLevel level, IReadOnlyList<string> tenantIds)
    {
        if (tenantIds.Count == 0) throw new ArgumentException("a query must name at least one tenant", nameof(tenantIds));
        Level = level;
        TenantIds = tenantIds;
    }

    public IndexLevel Level { get; }

    /// <summary>The tenants whose data the requester may see (a tenant only sees its own; a regional viewer later
    /// several). Never empty.</summary>
    public IReadOnlyList<string> TenantIds { get; }

    /// <summary>Matching keys, all of which must match (PS3.4 §C.2.2.2). Keys below <see cref="Level"/> are refused
    /// (<see cref="IndexQueryException"/>): the entity returned would not be defined by them.</summary>
    public List<IndexMatch> Matches { get; } = [];

    /// <summary>Attributes wanted in each answer. Attributes the index does not hold are left out of the answer (the
    /// protocol adapter decides how to show them: C-FIND returns them zero-length).</summary>
    public List<DicomTag> ReturnKeys { get; } = [];

    /// <summary>At most this many answers (QIDO-RS <c>limit</c>); null: all.</summary>
    public int? Limit { get; set; }

    /// <summary>Answers to skip first (QIDO-RS <c>offset</c>). With a limit or an offset, answers come in a stable
    /// order (by entity, oldest first).</summary>
    public int Offset { get; set; }

    public IndexQuery Match(DicomTag tag, string value)
    {
        Matches.Add(new IndexMatch(tag, value));
        return this;
    }

    public IndexQuery Return(params DicomTag[] tags)
    {
        ReturnKeys.AddRange(tags);
        return this;
    }
}

/// <summary>A query the index cannot answer as asked; the message names the attribute and the rule (PS3.4 section).
/// C-FIND answers it with a failure status and the message as Error Comment; QIDO-RS with 400.</summary>
public sealed class IndexQueryException(string message) : Exception(message);

/// <summary>A stored file of a current instance version, for C-MOVE, C-GET and WADO-RS.</summary>
public sealed record IndexedFile(string TenantId, string StudyInstanceUid, string SeriesInstanceUid, string SopInstanceUid, string SopClassUid, string TransferSyntaxUid, string FilePath, long FileSize);
