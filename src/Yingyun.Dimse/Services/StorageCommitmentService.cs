using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using Yingyun.Dicom;

namespace Yingyun.Dimse;

/// <summary>A SOP Instance named by its class and instance UID: an item of the Referenced SOP Sequence (0008,1199)
/// (PS3.4 Table J.3-1).</summary>
public readonly record struct SopReference(string SopClassUid, string SopInstanceUid);

/// <summary>Failure Reason (0008,1197) of an item of the Failed SOP Sequence (PS3.3 §C.14.1.1).</summary>
public enum StorageCommitmentFailureReason : ushort
{
    /// <summary>A general failure in processing the operation was encountered.</summary>
    ProcessingFailure = 0x0110,
    /// <summary>The SOP Instance was not available.</summary>
    NoSuchObjectInstance = 0x0112,
    /// <summary>The SOP Class given differs from the one registered for the instance.</summary>
    ClassInstanceConflict = 0x0119,
    /// <summary>Commitment was requested for a SOP Class the SCP does not support.</summary>
    ReferencedSopClassNotSupported = 0x0122,
    /// <summary>The Transaction UID of the request is already in use.</summary>
    DuplicateTransactionUid = 0x0131,
    /// <summary>The SCP does not have the resources to store the instance.</summary>
    ResourceLimitation = 0x0213,
}

/// <summary>An instance the SCP does not commit to store, and why (PS3.4 Table J.3-2, Failed SOP Sequence).</summary>
public readonly record struct FailedSopReference(string SopClassUid, string SopInstanceUid, StorageCommitmentFailureReason FailureReason);

/// <summary>The Storage Commitment Result (PS3.4 §J.3.3, Table J.3-2): for one Transaction UID, the instances the
/// SCP commits to store and those it does not. Together they are every instance of the request (§J.3.3.1.2).</summary>
public sealed record StorageCommitmentResult(string TransactionUid, IReadOnlyList<SopReference> Committed, IReadOnlyList<FailedSopReference> Failed)
{
    /// <summary>Retrieve AE Title (0008,0054): where the committed instances can be retrieved; optional.</summary>
    public string? RetrieveAeTitle { get; init; }

    /// <summary>Event Type ID (0000,1002): 1, storage commitment request successful; 2, complete with failures.</summary>
    public ushort EventTypeId => Failed.Count == 0 ? StorageCommitment.EventTypeSuccessful : StorageCommitment.EventTypeFailuresExist;

    public bool IsSuccess => Failed.Count == 0;
}

/// <summary>An N-ACTION Storage Commitment Request as the SCP's handler sees it (PS3.4 §J.3.2).</summary>
public sealed record StorageCommitmentRequest(
    string TransactionUid,
    IReadOnlyList<SopReference> References,
    string CallingAeTitle,
    string CalledAeTitle,
    EndPoint? RemoteEndPoint,
    UserIdentityRequest? UserIdentity);

/// <summary>"Which of these instances do we commit to store?": the archive answers from its index and blob store.
/// The N-ACTION-RSP has gone out before this is called; the N-EVENT-REPORT carries what it returns, so it may take
/// its time (PS3.4 §J.3.2.1.3 Note 2).</summary>
public interface IStorageCommitmentHandler
{
    ValueTask<StorageCommitmentResult> CommitAsync(StorageCommitmentRequest request, CancellationToken cancellationToken);
}

/// <summary>"Where does the requestor listen?": the address of the SCU that asked for commitment, for an
/// N-EVENT-REPORT on a new association (PS3.4 §J.3.3.1.2); the tenant's known nodes, looked up by calling AE title.
/// Null: unknown, the report cannot go on a new association.</summary>
public interface IStorageCommitmentRequestorResolver
{
    ValueTask<DicomNode?> ResolveAsync(StorageCommitmentRequest request, CancellationToken cancellationToken);
}

/// <summary>Which association the SCP's N-EVENT-REPORT goes on (PS3.4 §J.3.3.1.2).</summary>
public enum StorageCommitmentReportDelivery
{
    /// <summary>The association of the N-ACTION while it is still open (neither released nor asked to be), else a
    /// new association to the requestor: the SCU is free to release at any time, so the report may have to move.</summary>
    SameAssociationIfOpen,

    /// <summary>Always a new association to the requestor, as IHE RAD-10 recommends.</summary>
    NewAssociation,
}

/// <summary>A Storage Commitment Result received in an N-EVENT-REPORT-RQ, with the association it arrived on
/// (<see cref="DicomAssociation.Id"/>: the association of the N-ACTION, or one the SCP opened).</summary>
public sealed record StorageCommitmentReport(StorageCommitmentResult Result, long AssociationId, string CallingAeTitle, string CalledAeTitle, EndPoint? RemoteEndPoint);

/// <summary>What the SCU does with a Storage Commitment Result (PS3.4 §J.3.3.1.3); the status returned goes back in
/// the N-EVENT-REPORT-RSP.</summary>
public interface IStorageCommitmentReportHandler
{
    ValueTask<DimseStatus> ReportAsync(StorageCommitmentReport report, CancellationToken cancellationToken);
}

/// <summary>Reports awaited by Transaction UID: an SCU registers a transaction with <see cref="Expect"/> before it
/// sends the N-ACTION, then awaits the task, whichever association the report comes on — the one of the request
/// (give this to <see cref="DicomClientOptions.Services"/>) or one the SCP opens to our listener (give it to the
/// <see cref="DicomServer"/>'s services). A report for a transaction not expected is refused with 0115H (invalid
/// argument value); one for a transaction already reported but not yet forgotten (the SCP could not tell the first
/// arrived and sent it again) is acknowledged and changes nothing.</summary>
public sealed class StorageCommitmentReports : IStorageCommitmentReportHandler
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StorageCommitmentReport>> _expected = new(StringComparer.Ordinal);

    /// <summary>The report for <paramref name="transactionUid"/>, once it arrives.</summary>
    public Task<StorageCommitmentReport> Expect(string transactionUid) =>
        _expected.GetOrAdd(transactionUid, static _ => new TaskCompletionSource<StorageCommitmentReport>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Stops expecting <paramref name="transactionUid"/>.</summary>
    public void Forget(string transactionUid) => _expected.TryRemove(transactionUid, out _);

    ValueTask<DimseStatus> IStorageCommitmentReportHandler.ReportAsync(StorageCommitmentReport report, CancellationToken cancellationToken)
    {
        if (!_expected.TryGetValue(report.Result.TransactionUid, out var waiter))
            return ValueTask.FromResult(DimseStatus.InvalidArgumentValue);
        waiter.TrySetResult(report);
        return ValueTask.FromResult(DimseStatus.Success);
    }
}

/// <summary>Commits to what a <see cref="FolderStoreHandler"/> holds: an instance is committed when
/// <c>&lt;folder&gt;/&lt;SOPInstanceUID&gt;.dcm</c> exists and is of the SOP class named (its File Meta
/// Information says so); otherwise it fails with "no such object instance" or "class/instance conflict".</summary>
public sealed class FolderStorageCommitmentHandler(string folder) : IStorageCommitmentHandler
{
    public string Folder { get; } = folder;

    public async ValueTask<StorageCommitmentResult> CommitAsync(StorageCommitmentRequest request, CancellationToken cancellationToken)
    {
        var committed = new List<SopReference>();
        var failed = new List<FailedSopReference>();
        foreach (var reference in request.References)
        {
            string path = Path.Combine(Folder, reference.SopInstanceUid + ".dcm");
            // The UID becomes a file name: a value that is not a UID cannot name a stored instance.
            if (!FolderStoreHandler.IsUid(reference.SopInstanceUid) || !File.Exists(path))
            {
                failed.Add(new(reference.SopClassUid, reference.SopInstanceUid, StorageCommitmentFailureReason.NoSuchObjectInstance));
                continue;
            }
            Part10Header header;
            try
            {
                header = await Part10Header.ReadAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is DicomReadException or IOException)
            {
                failed.Add(new(reference.SopClassUid, reference.SopInstanceUid, StorageCommitmentFailureReason.ProcessingFailure));
                continue;
            }
            if (header.SopClassUid != reference.SopClassUid)
                failed.Add(new(reference.SopClassUid, reference.SopInstanceUid, StorageCommitmentFailureReason.ClassInstanceConflict));
            else
                committed.Add(reference);
        }
        return new StorageCommitmentResult(request.TransactionUid, committed, failed);
    }
}

/// <summary>The Storage Commitment Push Model (PS3.4 Annex J): its constants and the encoding of the N-ACTION Action
/// Information (Table J.3-1) and the N-EVENT-REPORT Event Information (Table J.3-2).</summary>
public static class StorageCommitment
{
    /// <summary>Action Type ID of "Request Storage Commitment" (PS3.4 Table J.3-1).</summary>
    public const ushort ActionTypeRequest = 1;

    /// <summary>Event Type ID: storage commitment request successful (PS3.4 Table J.3-2).</summary>
    public const ushort EventTypeSuccessful = 1;

    /// <summary>Event Type ID: storage commitment request complete, failures exist (PS3.4 Table J.3-2).</summary>
    public const ushort EventTypeFailuresExist = 2;

    /// <summary>A new Transaction UID: "2.25." and a random UUID as an integer (PS3.5 §B.2).</summary>
    public static string NewTransactionUid()
    {
        Span<byte> uuid = stackalloc byte[16];
        Guid.NewGuid().TryWriteBytes(uuid, bigEndian: true, out _);
        return "2.25." + BinaryPrimitives.ReadUInt128BigEndian(uuid).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>The Action Information of an N-ACTION-RQ (PS3.4 Table J.3-1).</summary>
    public static DicomDataset ToActionInformation(string transactionUid, IEnumerable<SopReference> references)
    {
        var ds = new DicomDataset();
        ds.AddOrUpdate(DicomTags.TransactionUID, transactionUid);
        ds.AddOrUpdate(new DicomSequence(DicomTags.ReferencedSOPSequence, references.Select(ReferenceItem).ToList()));
        return ds;
    }

    /// <summary>Reads the Action Information; null and a reason when the Transaction UID or the Referenced SOP
    /// Sequence (one item or more, each with both UIDs) is missing or empty.</summary>
    public static (string? TransactionUid, List<SopReference>? References, string? Problem) ParseActionInformation(DicomDataset dataset)
    {
        if (!dataset.TryGetString(DicomTags.TransactionUID, out var uid) || uid.Length == 0)
            return (null, null, "Action Information without Transaction UID (0008,1195)");
        if (!dataset.TryGetSequence(DicomTags.ReferencedSOPSequence, out var sequence) || sequence.Items.Count == 0)
            return (null, null, "Action Information without items in Referenced SOP Sequence (0008,1199)");
        var references = new List<SopReference>(sequence.Items.Count);
        for (int i = 0; i < sequence.Items.Count; i++)
        {
            if (ReadReference(sequence.Items[i]) is not { } reference)
                return (null, null, $"Referenced SOP Sequence item {i + 1} lacks Referenced SOP Class or Instance UID");
            references.Add(reference);
        }
        return (uid, references, null);
    }

    /// <summary>The Event Information of an N-EVENT-REPORT-RQ (PS3.4 Table J.3-2). The Referenced SOP Sequence is
    /// left out of a failure report that committed nothing.</summary>
    public static DicomDataset ToEventInformation(StorageCommitmentResult result)
    {
        var ds = new DicomDataset();
        if (result.RetrieveAeTitle is { } retrieveAe) ds.AddOrUpdate(DicomTags.RetrieveAETitle, retrieveAe);
        ds.AddOrUpdate(DicomTags.TransactionUID, result.TransactionUid);
        if (result.Failed.Count > 0)
        {
            ds.AddOrUpdate(new DicomSequence(DicomTags.FailedSOPSequence, result.Failed.Select(f =>
            {
                var item = ReferenceItem(new SopReference(f.SopClassUid, f.SopInstanceUid));
                item.AddOrUpdate(DicomTags.FailureReason, (ushort)f.FailureReason);
                return item;
            }).ToList()));
        }
        if (result.Committed.Count > 0 || result.Failed.Count == 0)
            ds.AddOrUpdate(new DicomSequence(DicomTags.ReferencedSOPSequence, result.Committed.Select(ReferenceItem).ToList()));
        return ds;
    }

    /// <summary>Reads the Event Information of an N-EVENT-REPORT of <paramref name="eventTypeId"/>: a null result
    /// and a reason when the Transaction UID is missing or an item lacks its UIDs (or, in the Failed SOP Sequence,
    /// its Failure Reason).</summary>
    public static (StorageCommitmentResult? Result, string? Problem) ParseEventInformation(DicomDataset dataset, ushort eventTypeId)
    {
        if (!dataset.TryGetString(DicomTags.TransactionUID, out var uid) || uid.Length == 0)
            return (null, "Event Information without Transaction UID (0008,1195)");
        var committed = new List<SopReference>();
        if (dataset.TryGetSequence(DicomTags.ReferencedSOPSequence, out var referenced))
        {
            for (int i = 0; i < referenced.Items.Count; i++)
            {
                if (ReadReference(referenced.Items[i]) is not { } reference)
                    return (null, $"Referenced SOP Sequence item {i + 1} lacks Referenced SOP Class or Instance UID");
                committed.Add(reference);
            }
        }
        var failed = new List<FailedSopReference>();
        if (dataset.TryGetSequence(DicomTags.FailedSOPSequence, out var failures))
        {
            for (int i = 0; i < failures.Items.Count; i++)
            {
                var item = failures.Items[i];
                if (ReadReference(item) is not { } reference || !item.TryGetValue<ushort>(DicomTags.FailureReason, out var reason))
                    return (null, $"Failed SOP Sequence item {i + 1} lacks Referenced SOP Class or Instance UID or Failure Reason");
                failed.Add(new(reference.SopClassUid, reference.SopInstanceUid, (StorageCommitmentFailureReason)reason));
            }
        }
        if (eventTypeId == EventTypeFailuresExist && failed.Count == 0)
            return (null, "Event Type ID 2 (failures exist) without items in Failed SOP Sequence (0008,1198)");
        if (eventTypeId == EventTypeSuccessful && failed.Count > 0)
            return (null, "Event Type ID 1 (successful) with items in Failed SOP Sequence (0008,1198)");
        string? retrieveAe = dataset.TryGetString(DicomTags.RetrieveAETitle, out var ae) && ae.Length > 0 ? ae : null;
        return (new StorageCommitmentResult(uid, committed, failed) { RetrieveAeTitle = retrieveAe }, null);
    }

    /// <summary>The result completed so that every requested instance is in it once (PS3.4 §J.3.3.1.2: "the complete
    /// set of SOP Instances ... shall be present"): what the handler left out fails with "processing failure", what
    /// it added that was not asked for is dropped.</summary>
    internal static StorageCommitmentResult Complete(StorageCommitmentRequest request, StorageCommitmentResult result)
    {
        var requested = new HashSet<SopReference>(request.References);
        var seen = new HashSet<SopReference>();
        var committed = new List<SopReference>();
        var failed = new List<FailedSopReference>();
        foreach (var f in result.Failed)
        {
            var key = new SopReference(f.SopClassUid, f.SopInstanceUid);
            if (requested.Contains(key) && seen.Add(key)) failed.Add(f);
        }
        foreach (var c in result.Committed)
            if (requested.Contains(c) && seen.Add(c)) committed.Add(c);
        foreach (var r in request.References)
            if (seen.Add(r)) failed.Add(new(r.SopClassUid, r.SopInstanceUid, StorageCommitmentFailureReason.ProcessingFailure));
        return new StorageCommitmentResult(request.TransactionUid, committed, failed) { RetrieveAeTitle = result.RetrieveAeTitle };
    }

    /// <summary>Every instance of <paramref name="request"/> failed for <paramref name="reason"/>.</summary>
    internal static StorageCommitmentResult AllFailed(StorageCommitmentRequest request, StorageCommitmentFailureReason reason) =>
        new(request.TransactionUid, [], [.. request.References.Select(r => new FailedSopReference(r.SopClassUid, r.SopInstanceUid, reason))]);

    private static DicomDataset ReferenceItem(SopReference reference)
    {
        var item = new DicomDataset();
        item.AddOrUpdate(DicomTags.ReferencedSOPClassUID, reference.SopClassUid);
        item.AddOrUpdate(DicomTags.ReferencedSOPInstanceUID, reference.SopInstanceUid);
        return item;
    }

    private static SopReference? ReadReference(DicomDataset item) =>
        item.TryGetString(DicomTags.ReferencedSOPClassUID, out var sopClass) && sopClass.Length > 0
        && item.TryGetString(DicomTags.ReferencedSOPInstanceUID, out var sopInstance) && sopInstance.Length > 0
            ? new SopReference(sopClass, sopInstance)
            : null;
}
