using System.Runtime.CompilerServices;
using Yingyun.Archive.Tenants;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Archive.Index;

/// <summary>The DIMSE Query/Retrieve SCP over the index (PS3.4 Annex C): C-FIND at every level of the Patient Root
/// and Study Root models, the files of C-MOVE and C-GET, and C-MOVE destinations. Everything is seen through the
/// calling AE's tenant (ARCHITECTURE.md §4): a tenant finds and retrieves only its own instances and moves only to
/// its own nodes.
/// <para>Answers carry exactly the requested keys (PS3.4 §C.4.1.1.3.2): values the index holds, the others
/// zero-length; plus Specific Character Set ISO_IR 192, since the index keeps text decoded to Unicode (the request
/// may be in any character set: its keys are decoded with its own Specific Character Set). Query/Retrieve Level is
/// added by the DIMSE layer.</para></summary>
public sealed class IndexQueryHandler : IQueryHandler, IMoveDestinationResolver
{
    private readonly IIndexStore _store;
    private readonly TenantDirectory _tenants;
    private readonly string _blobRoot;

    /// <param name="blobRoot">The blob store's root: the index keeps paths relative to it.</param>
    public IndexQueryHandler(IIndexStore store, TenantDirectory tenants, string blobRoot)
    {
        _store = store;
        _tenants = tenants;
        _blobRoot = Path.GetFullPath(blobRoot);
    }

    /// <summary>Whether the request's association accepted relational queries in the SOP Class Extended Negotiation
    /// (PS3.4 §C.5.1.1.1, byte 1 of the service-class application information). Then the unique keys above the query
    /// level may be missing or match by any rule (PS3.4 §C.4.1.2.2); otherwise the query is hierarchical. The DIMSE
    /// layer does not answer that negotiation yet, so the default is "hierarchical only", the behaviour an SCU must
    /// assume when the negotiation is not answered (PS3.7 §D.3.3.5).</summary>
    public Func<QueryRequest, bool> RelationalQueriesAccepted { get; init; } = static _ => false;

    public async IAsyncEnumerable<DicomDataset> FindAsync(QueryRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tenant = TenantOf(request);
        var level = LevelOf(request);
        var identifier = request.Identifier;
        if (!RelationalQueriesAccepted(request)) RequireUniqueKeysAbove(identifier, level, IsPatientRoot(request.InformationModel));

        var query = new IndexQuery(level, [tenant.Id]);
        var requested = new List<DicomItem>();
        foreach (var item in identifier)
        {
            if (item.Tag == QueryRetrieve.QueryRetrieveLevel || item.Tag == DicomTag.SpecificCharacterSetTag || item.Tag.Group is 0x0000 or 0x0002
                || item.Tag.IsGroupLength)
                continue;
            requested.Add(item);
            // A key below the query level, one the index does not hold, and sequences (sequence matching is not
            // offered) are answered zero-length and never matched.
            if (item is not DicomElement || !IndexAttributes.TryGet(item.Tag, out var attribute) || attribute.Level > level) continue;
            query.ReturnKeys.Add(item.Tag);
            if (KeyValue(identifier, attribute) is { Length: > 0 } value) query.Matches.Add(new IndexMatch(item.Tag, value));
        }

        await foreach (var row in _store.QueryAsync(query, cancellationToken).ConfigureAwait(false))
        {
            var answer = new DicomDataset(requested.Count + 1);
            answer.AddOrUpdate(DicomTag.SpecificCharacterSetTag, DicomVR.CS, "ISO_IR 192");
            foreach (var item in requested)
            {
                if (row.TryGetItem(item.Tag, out var value)) answer.AddOrUpdate(value);
                // PS3.4 §C.4.1.1.3.2 return keys the SCP knows without the index: where to retrieve from (this AE)
                // and how available the instances are (all on line in the blob store, §C.6.1.1.5.1).
                else if (item.Tag == DicomTags.RetrieveAETitle) answer.AddOrUpdate(DicomTags.RetrieveAETitle, DicomVR.AE, request.CalledAeTitle.Trim());
                else if (item.Tag == DicomTags.InstanceAvailability) answer.AddOrUpdate(DicomTags.InstanceAvailability, DicomVR.CS, "ONLINE");
                else answer.AddOrUpdate(ZeroLength(item));
            }
            yield return answer;
        }
    }

    public async ValueTask<IReadOnlyList<string>> RetrieveAsync(QueryRequest request, CancellationToken cancellationToken)
    {
        var tenant = TenantOf(request);
        var level = LevelOf(request);
        var identifier = request.Identifier;
        // PS3.4 §C.4.2.2.1: a retrieve names the entities by their unique keys (a list of UIDs at the level).
        var unique = IndexAttributes.UniqueKey(level);
        if (string.IsNullOrWhiteSpace(identifier.GetSingleValueOrDefault(unique, "")))
            throw new IndexQueryException($"{request.Level} retrieve needs {DicomDictionary.GetKeyword(unique)} {unique} (PS3.4 §C.4.2.2.1)");
        var query = new IndexQuery(level, [tenant.Id]);
        foreach (var item in identifier)
        {
            if (item is not DicomElement || item.Tag == QueryRetrieve.QueryRetrieveLevel || !IndexAttributes.TryGet(item.Tag, out var attribute)
                || attribute.Level > level || attribute.Kind == IndexMatchKind.Count)
                continue;
            if (KeyValue(identifier, attribute) is { Length: > 0 } value) query.Matches.Add(new IndexMatch(item.Tag, value));
        }
        var files = await _store.GetFilesAsync(query, cancellationToken).ConfigureAwait(false);
        var paths = new List<string>(files.Count);
        foreach (var file in files) paths.Add(FullPath(file.FilePath));
        return paths;
    }

    public async ValueTask<DicomNode?> ResolveAsync(string aeTitle, QueryRequest request, CancellationToken cancellationToken)
    {
        var tenant = TenantOf(request);
        string wanted = aeTitle.Trim();
        foreach (var node in await _store.GetNodesAsync(tenant.Id, cancellationToken).ConfigureAwait(false))
            if (string.Equals(node.AeTitle.Trim(), wanted, StringComparison.Ordinal)) return new DicomNode(node.AeTitle.Trim(), node.Host, node.Port, node.Tls);
        return null;
    }

    /// <summary>The blob root + the index's relative path, refusing anything that would leave the root.</summary>
    private string FullPath(string relative)
    {
        string full = Path.GetFullPath(Path.Combine(_blobRoot, relative.Replace('/', Path.DirectorySeparatorChar)));
        if (!full.StartsWith(_blobRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"index file_path '{relative}' leaves the blob root");
        return full;
    }

    private TenantConfig TenantOf(QueryRequest request) =>
        _tenants.Resolve(request.CallingAeTitle, request.RemoteEndPoint)
        ?? throw new IndexQueryException($"calling AE '{request.CallingAeTitle}' belongs to no tenant");

    private static IndexLevel LevelOf(QueryRequest request) => request.Level switch
    {
        "PATIENT" => IndexLevel.Patient,
        "STUDY" => IndexLevel.Study,
        "SERIES" => IndexLevel.Series,
        "IMAGE" => IndexLevel.Instance,
        _ => throw new IndexQueryException($"Query/Retrieve Level '{request.Level}' is not PATIENT, STUDY, SERIES or IMAGE (PS3.4 §C.6)"),
    };

    private static string LevelName(IndexLevel level) => level == IndexLevel.Instance ? "IMAGE" : level.ToString().ToUpperInvariant();

    private static bool IsPatientRoot(string model) => model is DicomUids.PatientRootQueryRetrieveInformationModelFind
        or DicomUids.PatientRootQueryRetrieveInformationModelMove or DicomUids.PatientRootQueryRetrieveInformationModelGet;

    /// <summary>Hierarchical search (PS3.4 §C.4.1.2.1, §C.4.1.3.1.1): the identifier carries a single value of the
    /// unique key of each level above the query level (Patient ID from the PATIENT level down in the Patient Root
    /// model; Study Instance UID, Series Instance UID below in both).</summary>
    internal static void RequireUniqueKeysAbove(DicomDataset identifier, IndexLevel level, bool patientRoot)
    {
        for (var above = patientRoot ? IndexLevel.Patient : IndexLevel.Study; above < level; above++)
        {
            var key = IndexAttributes.UniqueKey(above);
            string value = identifier.Contains(key) ? identifier.GetString(key) ?? "" : "";
            if (value.Length == 0 || value.AsSpan().IndexOfAny('*', '?') >= 0 || value.Contains('\\', StringComparison.Ordinal))
                // The first 64 characters become the Error Comment (LO): the essentials first.
                throw new IndexQueryException(
                    $"{LevelName(level)} query needs one {DicomDictionary.GetKeyword(key)} {key} (hierarchical search, PS3.4 §C.4.1.2.1; relational queries were not negotiated)");
        }
    }

    private static string KeyValue(DicomDataset identifier, IndexAttribute attribute)
    {
        if (attribute.VR == DicomVR.US)
            return identifier.TryGetValue<ushort>(attribute.Tag, out var number) ? number.ToString(System.Globalization.CultureInfo.InvariantCulture) : "";
        try
        {
            return identifier.GetString(attribute.Tag) ?? "";
        }
        catch (InvalidOperationException ex)
        {
            throw new IndexQueryException($"{IndexMatching.Describe(attribute)}: {ex.Message}");
        }
    }

    private static DicomItem ZeroLength(DicomItem requested) => requested is DicomSequence
        ? new DicomSequence(requested.Tag)
        : new DicomElement(requested.Tag, requested.VR, ReadOnlyMemory<byte>.Empty);
}
