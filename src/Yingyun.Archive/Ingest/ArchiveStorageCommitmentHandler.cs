using Yingyun.Archive.Blobs;
using Yingyun.Archive.Index;
using Yingyun.Archive.Tenants;
using Yingyun.Dicom;
using Yingyun.Dimse;

namespace Yingyun.Archive.Ingest;

/// <summary>Storage Commitment Push Model answered from the archive (PS3.4 Annex J, issue 4): an instance is committed
/// when the requestor's tenant has it in the registry and its file is in the blob store, durable (ingest acknowledges
/// only durable files) and of the SOP class asked about. Failure reasons per PS3.3 §C.14.1.1.</summary>
public sealed class ArchiveStorageCommitmentHandler(IInstanceRegistry registry, TenantDirectory tenants, LocalBlobStore blobs) : IStorageCommitmentHandler
{
    public async ValueTask<StorageCommitmentResult> CommitAsync(StorageCommitmentRequest request, CancellationToken cancellationToken)
    {
        var tenant = tenants.Resolve(request.CallingAeTitle, request.RemoteEndPoint);
        var committed = new List<SopReference>();
        var failed = new List<FailedSopReference>();
        foreach (var reference in request.References)
        {
            var entry = tenant is null || !InstanceHeader.IsUid(reference.SopInstanceUid)
                ? null
                : await registry.GetRegistryEntryAsync(tenant.Id, reference.SopInstanceUid, cancellationToken).ConfigureAwait(false);
            string? path = entry is null ? null : blobs.FullPath(entry.FilePath);
            if (path is null || !File.Exists(path))
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

/// <summary>Where a storage commitment requestor listens, for a report on a new association: the tenant's known node
/// with the requestor's AE title (ARCHITECTURE.md §4).</summary>
public sealed class ArchiveStorageCommitmentRequestorResolver(IIndexStore index, TenantDirectory tenants) : IStorageCommitmentRequestorResolver
{
    public async ValueTask<DicomNode?> ResolveAsync(StorageCommitmentRequest request, CancellationToken cancellationToken)
    {
        var tenant = tenants.Resolve(request.CallingAeTitle, request.RemoteEndPoint);
        if (tenant is null) return null;
        var nodes = await index.GetNodesAsync(tenant.Id, cancellationToken).ConfigureAwait(false);
        var node = nodes.FirstOrDefault(n => n.AeTitle == request.CallingAeTitle);
        return node is null ? null : new DicomNode(node.AeTitle, node.Host, node.Port, node.Tls);
    }
}
