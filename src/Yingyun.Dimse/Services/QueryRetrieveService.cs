using System.Net;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>A C-FIND, C-MOVE or C-GET request as the archive sees it (PS3.4 Annex C).</summary>
public sealed record QueryRequest(
    string InformationModel,
    DicomDataset Identifier,
    string Level,
    DimsePriority Priority,
    string CallingAeTitle,
    string CalledAeTitle,
    EndPoint? RemoteEndPoint,
    UserIdentityRequest? UserIdentity);

/// <summary>"Answer this query": the archive's index implements it.</summary>
public interface IQueryHandler
{
    /// <summary>C-FIND (PS3.4 §C.4.1): the matches, each sent back in a pending response as it is produced. The
    /// token is cancelled by a C-CANCEL-RQ or the end of the association.</summary>
    IAsyncEnumerable<DicomDataset> FindAsync(QueryRequest request, CancellationToken cancellationToken);

    /// <summary>C-MOVE and C-GET (PS3.4 §C.4.2, §C.4.3): the Part 10 files of the instances to send. Their number
    /// is the sub-operation count reported in the pending responses.</summary>
    ValueTask<IReadOnlyList<string>> RetrieveAsync(QueryRequest request, CancellationToken cancellationToken);
}

/// <summary>A DICOM application entity on the network; <paramref name="Tls"/>: reach it over TLS (ARCHITECTURE.md §8 nodes).</summary>
public sealed record DicomNode(string AeTitle, string Host, int Port, bool Tls = false);

/// <summary>"Resolve this move destination": the AE title of a C-MOVE (0000,0600) to an address (the tenant's known
/// nodes, ARCHITECTURE.md §4). Null: unknown, answered with A801H.</summary>
public interface IMoveDestinationResolver
{
    ValueTask<DicomNode?> ResolveAsync(string aeTitle, QueryRequest request, CancellationToken cancellationToken);
}

/// <summary>The final outcome of a C-MOVE or C-GET (PS3.4 §C.4.2.1.4, §C.4.3.1.4).</summary>
public sealed record RetrieveResult(DimseStatus Status, int Completed, int Failed, int Warning, IReadOnlyList<string> FailedSopInstanceUids, string? ErrorComment);

/// <summary>The Query/Retrieve information models and their levels (PS3.4 §C.6).</summary>
public static class QueryRetrieve
{
    public static readonly DicomTag QueryRetrieveLevel = new(0x0008, 0x0052);
    public static readonly DicomTag FailedSopInstanceUidList = new(0x0008, 0x0058);

    public static bool IsFind(string sopClass) => sopClass is DicomUids.PatientRootQueryRetrieveInformationModelFind or DicomUids.StudyRootQueryRetrieveInformationModelFind;
    public static bool IsMove(string sopClass) => sopClass is DicomUids.PatientRootQueryRetrieveInformationModelMove or DicomUids.StudyRootQueryRetrieveInformationModelMove;
    public static bool IsGet(string sopClass) => sopClass is DicomUids.PatientRootQueryRetrieveInformationModelGet or DicomUids.StudyRootQueryRetrieveInformationModelGet;

    /// <summary>Levels a model allows (PS3.4 §C.6.1, §C.6.2): Study Root has no PATIENT level.</summary>
    public static bool IsValidLevel(string sopClass, string level) => level switch
    {
        "PATIENT" => sopClass.StartsWith("1.2.840.10008.5.1.4.1.2.1.", StringComparison.Ordinal),
        "STUDY" or "SERIES" or "IMAGE" => true,
        _ => false,
    };

    /// <summary>Encodes a data set as the presentation context's transfer syntax demands (PS3.7 §6.3.1).</summary>
    public static async Task<byte[]> EncodeAsync(DicomDataset dataset, DicomTransferSyntax syntax, CancellationToken cancellationToken = default)
    {
        var stream = new MemoryStream();
        await DicomWriter.WriteDatasetAsync(stream, dataset, syntax, cancellationToken: cancellationToken).ConfigureAwait(false);
        return stream.ToArray();
    }

    public static Task<DicomDataset> DecodeAsync(byte[] bytes, DicomTransferSyntax syntax, CancellationToken cancellationToken = default) =>
        DicomReader.ReadDatasetAsync(new MemoryStream(bytes, writable: false), syntax, cancellationToken: cancellationToken);
}
