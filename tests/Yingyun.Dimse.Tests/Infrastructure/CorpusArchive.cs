using System.Runtime.CompilerServices;
using Yingyun.Dicom;

namespace Yingyun.Dimse.Tests.Infrastructure;

/// <summary>A small in-memory Query/Retrieve archive over corpus files, for tests: single-value, wildcard (* ?),
/// UID-list and date-range matching (PS3.4 §C.2.2.2), one answer per unique key of the query level. Its
/// <see cref="Nodes"/> resolve move destinations and the requestors of storage commitment alike.</summary>
internal sealed class CorpusArchive : IQueryHandler, IMoveDestinationResolver, IStorageCommitmentRequestorResolver
{
    private readonly List<(string Path, DicomDataset Header)> _records = [];

    public Dictionary<string, DicomNode> Nodes { get; } = new(StringComparer.Ordinal);

    /// <summary>Awaited before each match is yielded (a test holds the operation here to cancel it).</summary>
    public Func<int, CancellationToken, Task>? BeforeMatch { get; set; }

    public static async Task<CorpusArchive> LoadAsync(params string[] names)
    {
        var archive = new CorpusArchive();
        foreach (var name in names)
        {
            var path = Corpus.File(name);
            var file = await DicomReader.OpenAsync(path, new DicomReaderOptions { StopBeforeTag = DicomTag.PixelDataTag });
            archive._records.Add((path, file.Dataset));
        }
        return archive;
    }

    private static DicomTag UniqueKey(string level) => level switch
    {
        "PATIENT" => DicomTags.PatientID,
        "STUDY" => DicomTags.StudyInstanceUID,
        "SERIES" => DicomTags.SeriesInstanceUID,
        _ => DicomTags.SOPInstanceUID,
    };

    private IEnumerable<(string Path, DicomDataset Header)> Matching(QueryRequest request)
    {
        foreach (var record in _records)
        {
            bool all = true;
            foreach (var item in request.Identifier)
            {
                if (item is not DicomElement key || key.Tag == QueryRetrieve.QueryRetrieveLevel || key.Tag == DicomTag.SpecificCharacterSetTag) continue;
                var wanted = request.Identifier.GetString(key.Tag);
                if (string.IsNullOrEmpty(wanted)) continue; // universal matching
                var actual = record.Header.GetString(key.Tag) ?? "";
                if (!Matches(wanted, actual, key.VR)) { all = false; break; }
            }
            if (all) yield return record;
        }
    }

    private static bool Matches(string wanted, string actual, DicomVR vr)
    {
        if (vr == DicomVR.UI) return wanted.Split('\\').Contains(actual);
        if (vr is DicomVR.DA && wanted.Contains('-'))
        {
            var parts = wanted.Split('-');
            return (parts[0].Length == 0 || string.CompareOrdinal(actual, parts[0]) >= 0) && (parts[1].Length == 0 || string.CompareOrdinal(actual, parts[1]) <= 0);
        }
        if (wanted.Contains('*') || wanted.Contains('?'))
        {
            var pattern = "^" + System.Text.RegularExpressions.Regex.Escape(wanted).Replace("\\*", ".*").Replace("\\?", ".") + "$";
            return System.Text.RegularExpressions.Regex.IsMatch(actual, pattern);
        }
        return wanted == actual;
    }

    public async IAsyncEnumerable<DicomDataset> FindAsync(QueryRequest request, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var key = UniqueKey(request.Level);
        int n = 0;
        foreach (var group in Matching(request).GroupBy(r => r.Header.GetString(key) ?? ""))
        {
            if (BeforeMatch is not null) await BeforeMatch(n, cancellationToken);
            n++;
            var first = group.First().Header;
            var answer = new DicomDataset();
            foreach (var item in request.Identifier)
            {
                if (item.Tag == QueryRetrieve.QueryRetrieveLevel) continue;
                answer.AddOrUpdate(first.TryGetItem(item.Tag, out var value) ? value : item);
            }
            yield return answer;
        }
    }

    public ValueTask<IReadOnlyList<string>> RetrieveAsync(QueryRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<string>>(Matching(request).Select(r => r.Path).ToList());

    public ValueTask<DicomNode?> ResolveAsync(string aeTitle, QueryRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Nodes.GetValueOrDefault(aeTitle));

    public ValueTask<DicomNode?> ResolveAsync(StorageCommitmentRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Nodes.GetValueOrDefault(request.CallingAeTitle));
}
